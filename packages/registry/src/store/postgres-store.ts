import { createRequire } from 'node:module';
import type pg from 'pg';
import type { MetadataStore, Queryable, Row, SqlValue } from './metadata-store.js';

let driver: typeof pg | undefined;

/**
 * pg, required when a PostgreSQL store opens, not when @ferry/registry is imported (issue #23:
 * the CLI's start loads no database driver).
 */
function postgres(): typeof pg {
  if (driver) return driver;
  driver = createRequire(import.meta.url)('pg') as typeof pg;
  // BIGINT (sizes, counters) as JS numbers: every value ferry stores is below 2^53 (MAX_FILE_BYTES).
  driver.types.setTypeParser(20, (value) => Number(value));
  // DOUBLE PRECISION stays a number (pg's default); NUMERIC is not used.
  return driver;
}

export interface PostgresOptions {
  readonly connectionString: string;
  /** A schema to create (if missing) and use instead of `public`; tests use a fresh one per run. */
  readonly schema?: string;
  readonly maxConnections?: number;
}

/** PostgreSQL through a pg pool; `?` placeholders become `$1..$n`. */
export class PostgresStore implements MetadataStore {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  static async open(options: PostgresOptions): Promise<PostgresStore> {
    const pg = postgres();
    const schema = options.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new Error(`bad schema name ${schema}`);
    if (schema) {
      const client = new pg.Client({ connectionString: options.connectionString });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } finally {
        await client.end();
      }
    }
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 10,
      ...(schema && { options: `-c search_path=${schema}` }),
    });
    pool.on('error', () => undefined); // an idle client's error is reported on its next query
    return new PostgresStore(pool);
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
    const result = await this.pool.query(numbered(sql), params as SqlValue[]);
    return result.rows as Row[];
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const tx: Queryable = {
        query: async (sql, params = []) =>
          (await client.query(numbered(sql), params as SqlValue[])).rows as Row[],
      };
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** `?` -> `$n`, skipping quoted literals (the query layer never puts `?` inside one, but be exact). */
function numbered(sql: string): string {
  let n = 0;
  let quoted = false;
  let out = '';
  for (const ch of sql) {
    if (ch === "'") quoted = !quoted;
    out += ch === '?' && !quoted ? `$${++n}` : ch;
  }
  return out;
}
