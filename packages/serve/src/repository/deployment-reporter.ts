import { isFerryError } from '@ferry/formats';
import type { RegistryClient } from '@ferry/registry-client';
import type { Logger } from 'pino';
import type { RepositoryEvent } from './repository.js';

/**
 * Tells the registry what each deployment serves after every change: `serving` with the live
 * version, or `failed` with the reason and the version that kept serving (null when none). Reports
 * of one deployment are sent in order (a slow one never overwrites a newer one); a registry that
 * refuses them (no write token) is logged once and the server keeps serving.
 */
export class DeploymentReporter {
  private readonly chains = new Map<string, Promise<void>>();
  private warned = false;
  endpoint: string | undefined;

  constructor(
    private readonly client: RegistryClient,
    private readonly log: Logger,
  ) {}

  readonly onEvent = (event: RepositoryEvent): void => {
    const live = event.versions.length > 0 ? Math.max(...event.versions) : null;
    const body =
      event.kind === 'ready'
        ? { status: 'serving' as const, liveVersion: live, message: '' }
        : {
            status: 'failed' as const,
            liveVersion: live,
            message:
              `${event.attempted?.length ? `version ${event.attempted.join(', ')} ` : ''}failed to load: ${event.error?.message ?? 'unknown error'}${live === null ? '' : `; version ${live} keeps serving`}`.slice(
                0,
                4000,
              ),
          };
    const previous = this.chains.get(event.model) ?? Promise.resolve();
    const next = previous.then(() =>
      this.client
        .reportDeployment(event.model, { ...body, ...(this.endpoint && { endpoint: this.endpoint }) })
        .then(
          () => undefined,
          (error: Error) => {
            const http = isFerryError(error) ? error.http : undefined;
            if (http === 404) return; // served from a URI no deployment names
            if (!this.warned || (http !== 401 && http !== 403))
              this.log.warn(
                { model: event.model, err: error.message },
                'could not report the deployment status to the registry',
              );
            this.warned = true;
          },
        ),
    );
    this.chains.set(event.model, next);
  };

  /** Waits for the reports already queued (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all(this.chains.values());
  }
}
