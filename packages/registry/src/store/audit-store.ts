import type { MetadataStore, Queryable } from './metadata-store.js';
import { json, now, parse } from './sql-values.js';
import type { AuditEntry } from './types.js';
import { enqueueWebhooks } from './webhooks.js';

/**
 * Writes a mutation's audit entry, and queues the webhooks it raises, in the mutation's own
 * transaction: the log never disagrees with the data, and an event is sent only for a change that
 * committed. Every store's mutation calls it with its `tx`.
 */
export async function recordAudit(
  tx: Queryable,
  actor: string,
  action: string,
  target: string,
  before: unknown,
  after: unknown,
): Promise<void> {
  const time = now();
  await tx.query(
    'INSERT INTO audit_log (time, actor, action, target, before_json, after_json) VALUES (?, ?, ?, ?, ?, ?)',
    [time, actor, action, target, json(before), json(after)],
  );
  await enqueueWebhooks(tx, action, target, { time, actor, before, after });
}

/** Reading the audit log (`audit_log`); writes happen through recordAudit. */
export class AuditStore {
  constructor(private readonly store: MetadataStore) {}

  /** Entries after `afterId`, oldest first, optionally for one target. */
  /**
   * Entries after `afterId` oldest first, or with `newestFirst` the newest ones (before `beforeId`
   * when given): a reader pages back from the latest entry.
   */
  async list(
    filter: {
      target?: string;
      limit?: number;
      afterId?: number;
      beforeId?: number;
      newestFirst?: boolean;
    } = {},
  ): Promise<AuditEntry[]> {
    const where: string[] = ['id > ?'];
    const params: (string | number)[] = [filter.afterId ?? 0];
    if (filter.beforeId !== undefined) {
      where.push('id < ?');
      params.push(filter.beforeId);
    }
    if (filter.target) {
      where.push('target = ?');
      params.push(filter.target);
    }
    params.push(filter.limit ?? 100);
    const rows = await this.store.query(
      `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id${filter.newestFirst ? ' DESC' : ''} LIMIT ?`,
      params,
    );
    return rows.map((r) => ({
      id: Number(r.id),
      time: String(r.time),
      actor: String(r.actor),
      action: String(r.action),
      target: String(r.target),
      before: parse(r.before_json),
      after: parse(r.after_json),
    }));
  }
}
