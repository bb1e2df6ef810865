import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { MetadataStore, Queryable, Row, SqlValue } from './metadata-store.js';

/**
 * SQLite through better-sqlite3 (synchronous). One connection; transactions are serialized by a
 * promise chain, so an async transaction body never interleaves with another one's statements.
 */
export class SqliteStore implements MetadataStore {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    // WAL: readers never block the writer; a crash loses no committed transaction.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // LIKE is case-sensitive in PostgreSQL; make SQLite's agree (ILIKE is spelled LOWER() LIKE LOWER()).
    this.db.pragma('case_sensitive_like = ON');
  }

  query(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    return this.locked(async () => this.run(sql, params));
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.locked(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      let open = true;
      const tx: Queryable = {
        query: async (sql, params = []) => {
          if (!open) throw new Error('transaction already finished');
          return this.run(sql, params);
        },
      };
      try {
        const result = await fn(tx);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      } finally {
        open = false;
      }
    });
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    this.db.close();
  }

  private run(sql: string, params: readonly SqlValue[]): Row[] {
    // Row locks are PostgreSQL's; SQLite's BEGIN IMMEDIATE already holds the write lock.
    const statement = this.db.prepare(sql.replace(/\s+FOR UPDATE\s*$/i, ''));
    if (statement.reader) return statement.all(...params) as Row[];
    statement.run(...params);
    return [];
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
