/** One row as the database returns it; the query layer converts types. */
export type Row = Record<string, unknown>;
export type SqlValue = string | number | null;

/** What the query layer runs SQL through: one connection or one open transaction. */
export interface Queryable {
  /** Runs a statement with `?` placeholders; returns the rows (or RETURNING rows). */
  query(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
}

/**
 * The seam between the query layer (the stores behind RegistryDb, migrations.ts) and a database.
 * The SQL it is given is the common subset of SQLite and PostgreSQL; an implementation only
 * translates placeholders and runs it. A second database is a new file, not an `if`.
 */
export interface MetadataStore extends Queryable {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `fn` in one serializable unit: all of its writes become visible together or not at all.
   * Concurrent transactions that touch the same rows run one after another.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** True when an error is the database's unique-constraint violation. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}
