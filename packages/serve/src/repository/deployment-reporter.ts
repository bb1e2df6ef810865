import { isFerryError } from '@ferry/formats';
import type { DeploymentStatus, RegistryClient } from '@ferry/registry-client';
import type { Logger } from 'pino';
import type { RepositoryEvent } from './repository.js';

/**
 * How often a server re-sends each deployment's state (its heartbeat). The registry shows an
 * endpoint offline after DEFAULT_DEPLOYMENT_EXPIRY_MS (30 s) without one: three missed beats.
 */
export const DEFAULT_HEARTBEAT_MS = 10_000;

/** How long a stopping server waits for the registry to hear it went offline. */
const OFFLINE_REPORT_TIMEOUT_MS = 2_000;

interface Report {
  readonly status: DeploymentStatus;
  readonly liveVersion: number | null;
  readonly message: string;
}

/**
 * Tells the registry what each deployment serves: after every change (`serving` with the live
 * version, or `failed` with the reason and the version that kept serving), again every heartbeat
 * (so the registry can tell a live server from a stopped one), and `offline` when the server
 * stops. Reports of one deployment are sent in order (a slow one never overwrites a newer one); a
 * registry that refuses them (no write token) is logged once and the server keeps serving.
 */
export class DeploymentReporter {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly last = new Map<string, Report>();
  private timer: NodeJS.Timeout | undefined;
  private warned = false;
  private lastFailure: string | undefined;
  endpoint: string | undefined;

  constructor(
    private readonly client: RegistryClient,
    private readonly log: Logger,
  ) {}

  readonly onEvent = (event: RepositoryEvent): void => {
    const live = event.versions.length > 0 ? Math.max(...event.versions) : null;
    const report: Report =
      event.kind === 'ready'
        ? { status: 'serving', liveVersion: live, message: '' }
        : {
            status: 'failed',
            liveVersion: live,
            message:
              `${event.attempted?.length ? `version ${event.attempted.join(', ')} ` : ''}failed to load: ${event.error?.message ?? 'unknown error'}${live === null ? '' : `; version ${live} keeps serving`}`.slice(
                0,
                4000,
              ),
          };
    this.last.set(event.model, report);
    this.send(event.model, report);
  };

  /** Re-sends every deployment's last state every `intervalMs` (the timer keeps no process alive). */
  startHeartbeat(intervalMs: number = DEFAULT_HEARTBEAT_MS): void {
    this.timer = setInterval(() => {
      // one beat at a time per deployment: a registry slower than the interval is not piled on
      for (const [model, report] of this.last) if (!this.pending.has(model)) this.send(model, report);
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the heartbeat and says each deployment's endpoint went offline (bounded: the registry may be gone). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const model of this.last.keys())
      this.send(model, { status: 'offline', liveVersion: null, message: 'the server stopped' });
    this.last.clear();
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush(),
      new Promise<void>((resolve) => {
        timeout = setTimeout(resolve, OFFLINE_REPORT_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timeout);
  }

  /** Waits for the reports already queued (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all(this.chains.values());
  }

  private readonly pending = new Set<string>();

  private send(model: string, report: Report): void {
    this.pending.add(model);
    const previous = this.chains.get(model) ?? Promise.resolve();
    const next = previous.then(() =>
      this.client
        .reportDeployment(model, { ...report, ...(this.endpoint && { endpoint: this.endpoint }) })
        .then(
          () => {
            this.lastFailure = undefined;
          },
          (error: Error) => {
            const http = isFerryError(error) ? error.http : undefined;
            if (http === 404) return; // served from a URI no deployment names
            // a registry that is down fails every heartbeat the same way: said once until it changes
            const repeated = this.lastFailure === error.message;
            this.lastFailure = error.message;
            if ((!this.warned || (http !== 401 && http !== 403)) && !repeated)
              this.log.warn(
                { model, err: error.message },
                'could not report the deployment status to the registry',
              );
            this.warned = true;
          },
        ),
    );
    this.chains.set(model, next);
    void next.then(() => {
      if (this.chains.get(model) === next) this.pending.delete(model);
    });
  }
}
