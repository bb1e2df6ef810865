import type { MetadataStore } from './metadata-store.js';

/** An upload session as the sweeper sees it: its blob-store state, to remove the partial bytes. */
export interface IdleUpload {
  readonly id: string;
  readonly state: Record<string, string | number>;
}

/**
 * The upload-session queries the abuse limits need (the sessions' life cycle is in queries.ts):
 * how many a user holds open, and which ones nobody touched since a cutoff. `updated_at` is set
 * by every chunk (migration 8); rows from before it fall back to `created_at`.
 */
export class UploadSessions {
  constructor(private readonly store: MetadataStore) {}

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
