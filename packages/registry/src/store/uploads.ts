import type { MetadataStore } from './metadata-store.js';
import { now } from './sql-values.js';

/** An upload session as the sweeper sees it: its blob-store state, to remove the partial bytes. */
export interface IdleUpload {
  readonly id: string;
  readonly state: Record<string, string | number>;
}

/**
 * Resumable upload sessions (`uploads`): state shared by every server on this database. Besides
 * their life cycle, the queries the abuse limits need: how many a user holds open, and which ones
 * nobody touched since a cutoff. `updated_at` is set by every chunk (migration 8); rows from
 * before it fall back to `created_at`.
 */
export class UploadSessions {
  constructor(private readonly store: MetadataStore) {}

  async create(actor: string, id: string, state: unknown): Promise<void> {
    await this.store.query(
      'INSERT INTO uploads (id, state, received, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?, ?)',
      [id, JSON.stringify(state), 0, now(), now(), actor],
    );
  }

  async get(id: string): Promise<{ state: unknown; received: number; createdBy: string } | undefined> {
    const r = (await this.store.query('SELECT * FROM uploads WHERE id = ?', [id]))[0];
    return r
      ? { state: JSON.parse(String(r.state)), received: Number(r.received), createdBy: String(r.created_by) }
      : undefined;
  }

  /** Records progress only if nobody else moved the upload on meanwhile (optimistic check). */
  async advance(id: string, from: number, to: number, state: unknown): Promise<boolean> {
    return this.store.transaction(async (tx) => {
      const r = (await tx.query('SELECT received FROM uploads WHERE id = ? FOR UPDATE', [id]))[0];
      if (!r || Number(r.received) !== from) return false;
      await tx.query('UPDATE uploads SET received = ?, state = ?, updated_at = ? WHERE id = ?', [
        to,
        JSON.stringify(state),
        now(),
        id,
      ]);
      return true;
    });
  }

  async delete(id: string): Promise<void> {
    await this.store.query('DELETE FROM uploads WHERE id = ?', [id]);
  }

  async countOpen(user: string): Promise<number> {
    const r = await this.store.query('SELECT COUNT(*) AS n FROM uploads WHERE created_by = ?', [user]);
    return Number(r[0]?.n ?? 0);
  }

  /** Sessions idle since before `cutoff` (an ISO time), oldest first, at most `limit`. */
  async idleSince(cutoff: string, limit: number): Promise<IdleUpload[]> {
    const rows = await this.store.query(
      'SELECT id, state FROM uploads WHERE COALESCE(updated_at, created_at) < ? ORDER BY COALESCE(updated_at, created_at) LIMIT ?',
      [cutoff, limit],
    );
    return rows.map((r) => ({ id: String(r.id), state: JSON.parse(String(r.state)) }));
  }

  /** Removes a session only if it is still idle (a chunk may have arrived since it was listed). */
  async removeIfIdle(id: string, cutoff: string): Promise<boolean> {
    const rows = await this.store.query(
      'DELETE FROM uploads WHERE id = ? AND COALESCE(updated_at, created_at) < ? RETURNING id',
      [id, cutoff],
    );
    return rows.length > 0;
  }

  async exists(id: string): Promise<boolean> {
    return (await this.store.query('SELECT 1 AS x FROM uploads WHERE id = ?', [id])).length > 0;
  }
}
