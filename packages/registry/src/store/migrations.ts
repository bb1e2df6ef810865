import type { MetadataStore, Queryable } from './metadata-store.js';

/**
 * Versioned schema migrations, applied in order, each in its own transaction, recorded in
 * schema_migrations. SQL is the common subset of SQLite and PostgreSQL; `{AUTO_ID}` is the one
 * spelling they disagree on. Never edit a released migration: add the next number.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** A statement both databases run, or one spelled per database (an index only one of them needs). */
  readonly sql: readonly (string | { readonly sqlite: string | null; readonly postgres: string | null })[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'models, versions, files, aliases, tags',
    sql: [
      `CREATE TABLE models (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        full_name TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        visibility TEXT NOT NULL,
        card TEXT,
        next_version INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        created_by TEXT NOT NULL)`,
      'CREATE INDEX models_namespace ON models (namespace)',
      `CREATE TABLE model_tags (
        model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (model_id, key))`,
      `CREATE TABLE versions (
        model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        source_uri TEXT,
        run_id TEXT,
        digest TEXT,
        inspect TEXT,
        scan TEXT NOT NULL DEFAULT 'pending',
        scan_detail TEXT,
        idempotency_key TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY (model_id, version))`,
      'CREATE UNIQUE INDEX versions_idempotency ON versions (model_id, idempotency_key)',
      'CREATE INDEX versions_run ON versions (run_id)',
      'CREATE INDEX versions_digest ON versions (digest)',
      `CREATE TABLE version_tags (
        model_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (model_id, version, key),
        FOREIGN KEY (model_id, version) REFERENCES versions (model_id, version) ON DELETE CASCADE)`,
      `CREATE TABLE version_files (
        model_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size BIGINT NOT NULL,
        format TEXT,
        PRIMARY KEY (model_id, version, path),
        FOREIGN KEY (model_id, version) REFERENCES versions (model_id, version) ON DELETE CASCADE)`,
      'CREATE INDEX version_files_sha256 ON version_files (sha256)',
      `CREATE TABLE aliases (
        model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        alias TEXT NOT NULL,
        version INTEGER NOT NULL,
        protected INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (model_id, alias),
        FOREIGN KEY (model_id, version) REFERENCES versions (model_id, version) ON DELETE CASCADE)`,
    ],
  },
  {
    version: 2,
    name: 'runs, metrics, params, datasets, lineage edges',
    sql: [
      `CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        start_time TEXT NOT NULL,
        end_time TEXT,
        created_by TEXT NOT NULL)`,
      `CREATE TABLE run_params (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key))`,
      `CREATE TABLE run_tags (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key))`,
      `CREATE TABLE run_metrics (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        step BIGINT NOT NULL,
        time TEXT NOT NULL)`,
      'CREATE INDEX run_metrics_key ON run_metrics (run_id, key, step)',
      `CREATE TABLE datasets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        digest TEXT NOT NULL,
        source TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (name, digest))`,
      `CREATE TABLE lineage_edges (
        src TEXT NOT NULL,
        dst TEXT NOT NULL,
        relation TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (src, dst, relation))`,
      'CREATE INDEX lineage_edges_dst ON lineage_edges (dst)',
    ],
  },
  {
    version: 3,
    name: 'users, tokens, audit log, upload sessions',
    sql: [
      `CREATE TABLE users (
        name TEXT PRIMARY KEY,
        created_at TEXT NOT NULL)`,
      `CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        user_name TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        scopes TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL)`,
      `CREATE TABLE audit_log (
        id {AUTO_ID},
        time TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        before_json TEXT,
        after_json TEXT)`,
      'CREATE INDEX audit_log_target ON audit_log (target)',
      `CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        received BIGINT NOT NULL,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL)`,
    ],
  },
  {
    version: 4,
    name: 'webhooks and their delivery log (an outbox written in the mutating transaction)',
    sql: [
      `CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        events TEXT NOT NULL,
        model_filter TEXT,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL)`,
      `CREATE TABLE webhook_deliveries (
        id {AUTO_ID},
        webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        event TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_status INTEGER,
        last_error TEXT,
        next_attempt_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        delivered_at TEXT)`,
      'CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at)',
    ],
  },
  {
    version: 5,
    name: 'tag search indexes',
    sql: [
      'CREATE INDEX version_tags_key_value ON version_tags (key, value)',
      'CREATE INDEX model_tags_key_value ON model_tags (key, value)',
    ],
  },
  {
    version: 6,
    name: 'deployments',
    sql: [
      // A deployment follows an alias; the serving side reports which version is live, so the
      // registry can answer where each version is deployed.
      `CREATE TABLE deployments (
        name TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        alias TEXT NOT NULL,
        config TEXT,
        endpoint TEXT,
        status TEXT NOT NULL,
        live_version INTEGER,
        message TEXT NOT NULL DEFAULT '',
        reported_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        created_by TEXT NOT NULL)`,
      'CREATE INDEX deployments_model ON deployments (model)',
    ],
  },
  {
    version: 7,
    name: 'search indexes: ready versions per model, model name prefixes',
    sql: [
      // A model's latest ready version (every model listing) and its ready versions in order (version
      // listings, searches by name) are one index range instead of every version of the model.
      'CREATE INDEX versions_model_status_version ON versions (model_id, status, version)',
      // `name LIKE 'prefix%'`: PostgreSQL uses a b-tree for LIKE only with pattern ops when the
      // database's collation is not C (C.UTF-8 counts as not C). SQLite's unique index on
      // full_name already serves it (case_sensitive_like = ON).
      {
        sqlite: null,
        postgres: 'CREATE INDEX models_full_name_pattern ON models (full_name text_pattern_ops)',
      },
    ],
  },
  {
    version: 8,
    name: 'upload sessions: last activity, for expiry (issue #24)',
    sql: [
      // Every chunk sets it; a session idle past the TTL is removed with its partial bytes. Rows
      // from before this migration keep NULL and are aged by created_at.
      'ALTER TABLE uploads ADD COLUMN updated_at TEXT',
      'CREATE INDEX uploads_created_by ON uploads (created_by)',
    ],
  },
  {
    version: 9,
    name: 'experiments; runs join one and can be deleted (the MLflow tracking API, issue #19)',
    sql: [
      // MLflow names experiments by a number ("0" is the Default experiment every client falls
      // back to); the auto id gives the next ones. Runs from before (and ferry's own runs API) are
      // in experiment 0.
      `CREATE TABLE experiments (
        id {AUTO_ID},
        name TEXT NOT NULL UNIQUE,
        artifact_location TEXT,
        lifecycle_stage TEXT NOT NULL DEFAULT 'active',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        created_by TEXT NOT NULL)`,
      `INSERT INTO experiments (id, name, lifecycle_stage, created_at, updated_at, created_by)
        VALUES (0, 'Default', 'active', '1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', 'system')`,
      `CREATE TABLE experiment_tags (
        experiment_id BIGINT NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (experiment_id, key))`,
      'ALTER TABLE runs ADD COLUMN experiment_id BIGINT NOT NULL DEFAULT 0',
      "ALTER TABLE runs ADD COLUMN lifecycle_stage TEXT NOT NULL DEFAULT 'active'",
      'CREATE INDEX runs_experiment ON runs (experiment_id, start_time)',
    ],
  },
  {
    version: 10,
    name: 'deployment endpoints: one row per server, with its heartbeat (issue #25)',
    sql: [
      // Every server serving a deployment keeps its own row, refreshed by its heartbeat; a row whose
      // heartbeat is older than the expiry reads as offline. The deployments table's report columns
      // (one server's, the last to report) are superseded: their last report becomes a row here,
      // and expires like any other.
      `CREATE TABLE deployment_endpoints (
        deployment TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        status TEXT NOT NULL,
        live_version INTEGER,
        message TEXT NOT NULL DEFAULT '',
        reported_at TEXT NOT NULL,
        PRIMARY KEY (deployment, endpoint))`,
      `INSERT INTO deployment_endpoints (deployment, endpoint, status, live_version, message, reported_at)
        SELECT name, COALESCE(endpoint, ''), status, live_version, message, reported_at
        FROM deployments WHERE reported_at IS NOT NULL`,
    ],
  },
  {
    version: 11,
    name: 'content-addressed chunks and file manifests (issue #20)',
    sql: [
      // A row means the chunk's blob is stored and verified. `touched_at` is a lease: a chunk a
      // client was told is present, or just uploaded, is not collected for the GC grace period.
      // 'deleting': the collector took it (unreferenced, idle); nobody may use it until it is gone.
      `CREATE TABLE chunks (
        sha256 TEXT PRIMARY KEY,
        size BIGINT NOT NULL,
        state TEXT NOT NULL,
        touched_at TEXT NOT NULL)`,
      'CREATE INDEX chunks_state_touched ON chunks (state, touched_at)',
      // A file (named by its own sha256, verified) as its chunks in order.
      `CREATE TABLE file_manifests (
        sha256 TEXT PRIMARY KEY,
        size BIGINT NOT NULL,
        chunk_count INTEGER NOT NULL,
        created_at TEXT NOT NULL)`,
      `CREATE TABLE manifest_chunks (
        file_sha256 TEXT NOT NULL REFERENCES file_manifests (sha256) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        chunk_sha256 TEXT NOT NULL,
        start_at BIGINT NOT NULL,
        size BIGINT NOT NULL,
        PRIMARY KEY (file_sha256, seq))`,
      'CREATE INDEX manifest_chunks_chunk ON manifest_chunks (chunk_sha256)',
    ],
  },
  {
    version: 12,
    name: 'chunk packs: chunks stored back to back, one fsync per upload request (issue #20)',
    sql: [
      // A pack file of the blob store: chunks back to back. A row is written (leased, like a
      // chunk) before its file is, so the collector can find a pack a crash left without chunks.
      // 'deleting': the collector took it (no chunk or file lives in it, idle past the grace).
      `CREATE TABLE chunk_packs (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        touched_at TEXT NOT NULL)`,
      // Where a chunk's bytes are: NULL pack = the chunk is its own blob (older rows, OCI stores).
      'ALTER TABLE chunks ADD COLUMN pack TEXT',
      'ALTER TABLE chunks ADD COLUMN pack_offset BIGINT',
      'CREATE INDEX chunks_pack ON chunks (pack)',
      // A file whose bytes are exactly one pack from its start (pushed in one go, in order): it is
      // read, linked and served as that pack.
      'ALTER TABLE file_manifests ADD COLUMN pack TEXT',
      'CREATE INDEX file_manifests_pack ON file_manifests (pack)',
    ],
  },
];

const AUTO_ID = { sqlite: 'INTEGER PRIMARY KEY AUTOINCREMENT', postgres: 'BIGSERIAL PRIMARY KEY' } as const;

/** Brings the schema up to the newest migration; safe when several servers start at once. */
export async function migrate(store: MetadataStore): Promise<number[]> {
  await store.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    const done = await store.transaction(async (tx) => {
      await lockMigrations(store, tx);
      const rows = await tx.query('SELECT version FROM schema_migrations WHERE version = ?', [
        migration.version,
      ]);
      if (rows.length > 0) return false;
      for (const statement of migration.sql) {
        const sql = typeof statement === 'string' ? statement : statement[store.dialect];
        if (sql !== null) await tx.query(sql.replace('{AUTO_ID}', AUTO_ID[store.dialect]));
      }
      await tx.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        new Date().toISOString(),
      ]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}

/** Two servers starting together: PostgreSQL needs an explicit lock; SQLite's BEGIN IMMEDIATE is one. */
async function lockMigrations(store: MetadataStore, tx: Queryable): Promise<void> {
  if (store.dialect === 'postgres') await tx.query('LOCK TABLE schema_migrations IN EXCLUSIVE MODE');
}
