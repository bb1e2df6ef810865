import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import type { MetadataStore, Queryable, Row, SqlValue } from './metadata-store.js';

/**
 * Prepared statements kept per connection. Preparing costs as much as running a small query (the
 * page queries are long); the query layer's SQL is a bounded set of texts, except page hydration,
 * whose text grows with the page size, hence a bound.
 */
const MAX_CACHED_STATEMENTS = 200;

interface Prepared {
  readonly statement: Database.Statement;
  /** The result's column names; undefined for a statement that returns no rows. */
  readonly columns: readonly string[] | undefined;
}

/**
 * SQLite through better-sqlite3 (synchronous). One connection; transactions are serialized by a
 * promise chain, so an async transaction body never interleaves with another one's statements.
 */
export class SqliteStore implements MetadataStore {
  readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, Prepared>();

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // better-sqlite3 (a native addon) is required when a store opens, not when @ferry/registry is
    // imported (issue #23: the CLI's start loads no database driver)
    const Sqlite = createRequire(import.meta.url)('better-sqlite3') as typeof Database;
    this.db = new Sqlite(path);
    // WAL: readers never block the writer. synchronous=NORMAL syncs the log at checkpoints, not at
    // every commit: a killed process loses no committed transaction (the log is in the OS cache),
    // only a power loss or OS crash can roll back the last commits, never corrupt the database.
    // FULL cost one fsync per mutation (populating 10,000 versions: 107 s, NORMAL: 12 s). docs/registry.md.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
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
    const prepared = this.prepared(sql);
    const { statement } = prepared;
    if (!prepared.columns) {
      statement.run(...params);
      return [];
    }
    // Rows come as arrays and become objects here: better-sqlite3's own row objects cost ~40%
    // more on a 100-row page. A repeated column name keeps the last value, as row objects do.
    const rows = statement.all(...params) as unknown[][];
    // SQLite re-prepares a statement after a schema change; `SELECT *` may then have new columns.
    const columns =
      rows[0] && rows[0].length !== prepared.columns.length
        ? statement.columns().map((c) => c.name)
        : prepared.columns;
    return rows.map((values) => {
      const row: Row = {};
      for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i];
      return row;
    });
  }

  private prepared(sql: string): Prepared {
    let prepared = this.statements.get(sql);
    if (prepared) {
      this.statements.delete(sql); // re-inserted below: the Map's order is least recently used first
    } else {
      // Row locks are PostgreSQL's; SQLite's BEGIN IMMEDIATE already holds the write lock.
      const statement = this.db.prepare(sql.replace(/\s+FOR UPDATE\s*$/i, ''));
      prepared = statement.reader
        ? { statement: statement.raw(true), columns: statement.columns().map((c) => c.name) }
        : { statement, columns: undefined };
      if (this.statements.size >= MAX_CACHED_STATEMENTS)
        this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, prepared);
    return prepared;
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
