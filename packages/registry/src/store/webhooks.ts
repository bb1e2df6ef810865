import { randomUUID } from 'node:crypto';
import { registryError } from '../errors.js';
import type { MetadataStore, Queryable, Row } from './metadata-store.js';

/** The events a webhook can subscribe to, and the audit actions that raise them. */
export const WEBHOOK_EVENTS = ['version.created', 'alias.moved', 'tag.changed'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

const EVENT_OF: Record<string, WebhookEvent> = {
  'version.commit': 'version.created',
  'alias.set': 'alias.moved',
  'alias.delete': 'alias.moved',
  'model.tag.set': 'tag.changed',
  'model.tag.delete': 'tag.changed',
  'version.tag.set': 'tag.changed',
  'version.tag.delete': 'tag.changed',
};

export interface Webhook {
  readonly id: string;
  readonly url: string;
  readonly events: readonly WebhookEvent[];
  /** A model name, `NAMESPACE/*`, or null for every model. */
  readonly model: string | null;
  readonly createdAt: string;
  readonly createdBy: string;
}

export interface Delivery {
  readonly id: number;
  readonly webhookId: string;
  readonly event: WebhookEvent;
  readonly payload: unknown;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly nextAttemptAt: string;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
}

/** The model a target names: `models:/NAME@ALIAS`, `models:/NAME/3` or `models:/NAME`. */
function modelOfTarget(target: string): string | null {
  const match = /^models:\/(.+?)(?:@[^/]+|\/\d+)?$/.exec(target);
  return match ? match[1]! : null;
}

function matches(filter: string | null, model: string | null): boolean {
  if (filter === null) return true;
  if (model === null) return false;
  return filter.endsWith('/*') ? model.startsWith(filter.slice(0, -1)) : filter === model;
}

/**
 * Queues deliveries for an audited mutation, in the mutation's own transaction (an outbox): a
 * crash never loses an event nor sends one for a change that rolled back.
 */
export async function enqueueWebhooks(
  tx: Queryable,
  action: string,
  target: string,
  entry: { time: string; actor: string; before: unknown; after: unknown },
): Promise<void> {
  const event = EVENT_OF[action];
  if (!event) return;
  const hooks = await tx.query('SELECT id, events, model_filter FROM webhooks');
  const model = modelOfTarget(target);
  for (const hook of hooks) {
    if (
      !(JSON.parse(String(hook.events)) as string[]).includes(event) ||
      !matches(hook.model_filter === null ? null : String(hook.model_filter), model)
    )
      continue;
    const payload = {
      event,
      action,
      target,
      model,
      time: entry.time,
      actor: entry.actor,
      before: entry.before,
      after: entry.after,
    };
    await tx.query(
      'INSERT INTO webhook_deliveries (webhook_id, event, payload, status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [String(hook.id), event, JSON.stringify(payload), 'pending', 0, entry.time, entry.time],
    );
  }
}

const toWebhook = (r: Row): Webhook => ({
  id: String(r.id),
  url: String(r.url),
  events: JSON.parse(String(r.events)),
  model: r.model_filter === null ? null : String(r.model_filter),
  createdAt: String(r.created_at),
  createdBy: String(r.created_by),
});

const toDelivery = (r: Row): Delivery => ({
  id: Number(r.id),
  webhookId: String(r.webhook_id),
  event: r.event as WebhookEvent,
  payload: JSON.parse(String(r.payload)),
  status: r.status as Delivery['status'],
  attempts: Number(r.attempts),
  lastStatus: r.last_status === null ? null : Number(r.last_status),
  lastError: r.last_error === null ? null : String(r.last_error),
  nextAttemptAt: String(r.next_attempt_at),
  createdAt: String(r.created_at),
  deliveredAt: r.delivered_at === null ? null : String(r.delivered_at),
});

/** Webhook subscriptions and the delivery log. */
export class WebhookStore {
  constructor(private readonly store: MetadataStore) {}

  async create(
    actor: string,
    input: { url: string; secret: string; events: readonly WebhookEvent[]; model?: string | null },
  ): Promise<Webhook> {
    const id = randomUUID();
    const time = new Date().toISOString();
    await this.store.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO webhooks (id, url, secret, events, model_filter, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [id, input.url, input.secret, JSON.stringify(input.events), input.model ?? null, time, actor],
      );
      await tx.query(
        'INSERT INTO audit_log (time, actor, action, target, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?)',
        [
          time,
          actor,
          'webhook.create',
          `webhook:${id}`,
          null,
          JSON.stringify({ url: input.url, events: input.events, model: input.model ?? null }),
        ],
      );
    });
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Webhook | undefined> {
    const r = (await this.store.query('SELECT * FROM webhooks WHERE id = ?', [id]))[0];
    return r ? toWebhook(r) : undefined;
  }

  async list(): Promise<Webhook[]> {
    return (await this.store.query('SELECT * FROM webhooks ORDER BY created_at')).map(toWebhook);
  }

  async delete(actor: string, id: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const before = (await tx.query('SELECT url FROM webhooks WHERE id = ?', [id]))[0];
      if (!before) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'webhook', name: id });
      await tx.query('DELETE FROM webhooks WHERE id = ?', [id]);
      await tx.query(
        'INSERT INTO audit_log (time, actor, action, target, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?)',
        [new Date().toISOString(), actor, 'webhook.delete', `webhook:${id}`, JSON.stringify(before), null],
      );
    });
  }

  async deliveries(webhookId: string, limit = 100): Promise<Delivery[]> {
    return (
      await this.store.query('SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id LIMIT ?', [
        webhookId,
        limit,
      ])
    ).map(toDelivery);
  }

  /**
   * Claims due deliveries for this server: each claim pushes next_attempt_at past a lease, and only
   * the server whose UPDATE matched the old value sends it (servers sharing a database never
   * deliver the same attempt twice).
   */
  async claimDue(
    now: Date,
    leaseMs: number,
    limit: number,
  ): Promise<(Delivery & { url: string; secret: string })[]> {
    const due = await this.store.query(
      "SELECT d.*, w.url, w.secret FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.id LIMIT ?",
      [now.toISOString(), limit],
    );
    const claimed: (Delivery & { url: string; secret: string })[] = [];
    const lease = new Date(now.getTime() + leaseMs).toISOString();
    for (const r of due) {
      const won = await this.store.transaction(async (tx) => {
        const current = (
          await tx.query('SELECT next_attempt_at FROM webhook_deliveries WHERE id = ? FOR UPDATE', [
            Number(r.id),
          ])
        )[0];
        if (!current || current.next_attempt_at !== r.next_attempt_at) return false;
        await tx.query('UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?', [
          lease,
          Number(r.id),
        ]);
        return true;
      });
      if (won) claimed.push({ ...toDelivery(r), url: String(r.url), secret: String(r.secret) });
    }
    return claimed;
  }

  async recordAttempt(
    id: number,
    outcome: { ok: boolean; status: number | null; error: string | null; nextAttemptAt: string | null },
  ): Promise<void> {
    const time = new Date().toISOString();
    const status = outcome.ok ? 'delivered' : outcome.nextAttemptAt ? 'pending' : 'failed';
    await this.store.query(
      'UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?, last_status = ?, last_error = ?, next_attempt_at = ?, delivered_at = ? WHERE id = ?',
      [status, outcome.status, outcome.error, outcome.nextAttemptAt ?? time, outcome.ok ? time : null, id],
    );
  }
}
