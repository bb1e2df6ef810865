import { signBody } from '@ferry/registry-client';
import type { WebhookStore } from '../store/webhooks.js';
import { postWebhook } from './webhook-post.js';
import { REFUSED_DELIVERY, WebhookTargetRefused, WebhookTargets } from './webhook-target.js';

export interface DispatcherOptions {
  /** How often to look for due deliveries. */
  readonly pollMs?: number;
  /** First retry delay; each retry doubles it (capped at an hour). */
  readonly baseDelayMs?: number;
  /** Attempts before a delivery is marked failed. */
  readonly maxAttempts?: number;
  /** One POST's time limit. */
  readonly timeoutMs?: number;
}

/**
 * Sends queued webhook deliveries: POST JSON with X-Ferry-Event, X-Ferry-Delivery and
 * X-Ferry-Signature-256; a non-2xx answer or a network error is retried with exponential backoff.
 * Every server runs one; claims in the database keep them from sending the same attempt twice.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly pollMs: number;
  private readonly baseDelayMs: number;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly hooks: WebhookStore,
    options: DispatcherOptions = {},
    private readonly targets: WebhookTargets = new WebhookTargets(),
  ) {
    this.pollMs = options.pollMs ?? 1000;
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  start(): void {
    const tick = () => {
      this.running = this.runOnce()
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.pollMs);
        });
    };
    this.timer = setTimeout(tick, this.pollMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Sends every delivery that is due now; returns how many were attempted. */
  async runOnce(): Promise<number> {
    const due = await this.hooks.claimDue(new Date(), this.timeoutMs * 2, 50);
    await Promise.all(
      due.map(async (delivery) => {
        const body = JSON.stringify({ id: delivery.id, ...(delivery.payload as object) });
        let status: number | null = null;
        let error: string | null = null;
        let refused = false;
        try {
          status = await postWebhook(
            this.targets,
            delivery.url,
            {
              'content-type': 'application/json',
              'user-agent': 'ferry-registry-webhooks/0.1',
              'x-ferry-event': delivery.event,
              'x-ferry-delivery': String(delivery.id),
              'x-ferry-signature-256': signBody(delivery.secret, body),
            },
            body,
            this.timeoutMs,
          );
          if (status < 200 || status > 299) error = `HTTP ${status}`;
        } catch (e) {
          // A refused target is recorded in the same words whatever it was, and not retried:
          // the log must not tell which private ports answer (issue #24).
          refused = e instanceof WebhookTargetRefused;
          error = refused ? REFUSED_DELIVERY : (e as Error).message;
        }
        const attempts = delivery.attempts + 1;
        const retry = error !== null && !refused && attempts < this.maxAttempts;
        const delay = Math.min(3_600_000, this.baseDelayMs * 2 ** (attempts - 1));
        await this.hooks.recordAttempt(delivery.id, {
          ok: error === null,
          status,
          error,
          nextAttemptAt: retry ? new Date(Date.now() + delay).toISOString() : null,
        });
      }),
    );
    return due.length;
  }
}
