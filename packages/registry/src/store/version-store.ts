import { registryError } from '../errors.js';
import { recordAudit } from './audit-store.js';
import type { MetadataStore, Queryable, Row } from './metadata-store.js';
import type { ModelStore } from './model-store.js';
import { versionNode } from './node-id.js';
import { versionsPage } from './pages.js';
import { type Condition, type Readable, whereClause } from './search.js';
import { json, now } from './sql-values.js';
import type { NewFile } from './version-digest.js';
import type { ModelVersion, NodeId, ScanVerdict } from './types.js';

export interface NewVersion {
  readonly files: readonly NewFile[];
  readonly description?: string;
  readonly sourceUri?: string | null;
  readonly runId?: string | null;
  readonly tags?: Readonly<Record<string, string>>;
  readonly idempotencyKey?: string | null;
  /** Lineage nodes this version was derived from (converted, quantized, fine-tuned). */
  readonly derivedFrom?: readonly NodeId[];
}

const notFound = (model: string, version: number) =>
  registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'version', name: `${model}/${version}` });

/**
 * Versions with their files and tags (`versions`, `version_files`, `version_tags`). Changes lock
 * the model's row first (ModelStore.require), so they serialize with the model's other writes.
 */
export class VersionStore {
  constructor(
    private readonly store: MetadataStore,
    private readonly models: ModelStore,
  ) {}

  async get(model: string, version: number): Promise<ModelVersion | undefined> {
    const [found] = await versionsPage(
      this.store,
      'SELECT v.*, m.full_name FROM versions v JOIN models m ON m.id = v.model_id WHERE m.full_name = ? AND v.version = ?',
      [model, version],
    );
    return found;
  }

  async require(model: string, version: number): Promise<ModelVersion> {
    const v = await this.get(model, version);
    if (!v) throw notFound(model, version);
    return v;
  }

  async list(model: string, options: { includePending?: boolean } = {}): Promise<ModelVersion[]> {
    // By name in one query; the model's existence is asked only when it has no versions to list
    // (a round trip fewer to PostgreSQL on every listing).
    const versions = await versionsPage(
      this.store,
      `SELECT v.*, m.full_name FROM versions v JOIN models m ON m.id = v.model_id WHERE m.full_name = ?${options.includePending ? '' : " AND v.status = 'ready'"} ORDER BY v.version`,
      [model],
    );
    if (versions.length === 0) await this.models.require(model);
    return versions;
  }

  /** Ready versions matching every condition, newest first per model. */
  async search(
    conditions: readonly Condition[],
    readable: Readable,
    page: { limit: number; offset: number },
    /** ORDER BY terms built by the caller from a fixed column list (MLflow's order_by). */
    order: readonly string[] = [],
  ): Promise<{ versions: ModelVersion[]; total: number }> {
    const where = whereClause(conditions, readable, 'versions');
    const from = `FROM versions v JOIN models m ON m.id = v.model_id${where.sql}${where.sql ? ' AND' : ' WHERE'} v.status = 'ready'`;
    const [count, versions] = await Promise.all([
      this.store.query(`SELECT COUNT(*) AS n ${from}`, where.params),
      versionsPage(
        this.store,
        `SELECT v.*, m.full_name ${from} ORDER BY ${[...order, 'm.full_name', 'v.version DESC'].join(', ')} LIMIT ? OFFSET ?`,
        [...where.params, page.limit, page.offset],
      ),
    ]);
    const total = Number(count[0]!.n);
    return { versions, total };
  }

  /** The latest ready version of each model (as its `latestVersion` says), in one round of queries. */
  async latest(models: readonly { name: string; latestVersion: number | null }[]): Promise<ModelVersion[]> {
    const wanted = models.filter((m) => m.latestVersion !== null);
    if (wanted.length === 0) return [];
    return versionsPage(
      this.store,
      `SELECT v.*, m.full_name FROM versions v JOIN models m ON m.id = v.model_id WHERE ${wanted.map(() => '(m.full_name = ? AND v.version = ?)').join(' OR ')} ORDER BY m.full_name`,
      wanted.flatMap((m) => [m.name, m.latestVersion!]),
    );
  }

  /** A commit-like digest (or a unique prefix of at least 7 hex digits) to its ready version. */
  async findByDigest(model: string, digest: string): Promise<number | undefined> {
    if (!/^[0-9a-f]{7,64}$/.test(digest)) return undefined;
    const row = await this.models.require(model);
    const rows = await this.store.query(
      "SELECT version FROM versions WHERE model_id = ? AND status = 'ready' AND digest LIKE ?",
      [row.id, `${digest}%`],
    );
    return rows.length === 1 ? Number(rows[0]!.version) : undefined;
  }

  /** True when some version (of any model) references this blob: deduplicated blobs are shared. */
  async blobReferenced(sha256: string): Promise<boolean> {
    return (
      (await this.store.query('SELECT 1 AS x FROM version_files WHERE sha256 = ? LIMIT 1', [sha256])).length >
      0
    );
  }

  async update(
    actor: string,
    model: string,
    version: number,
    patch: { description?: string },
  ): Promise<ModelVersion> {
    await this.store.transaction(async (tx) => {
      const row = await this.models.require(model, tx, true);
      const before = await this.rowIn(tx, row.id, version, 'description');
      if (!before) throw notFound(model, version);
      if (patch.description !== undefined)
        await tx.query(
          'UPDATE versions SET description = ?, updated_at = ? WHERE model_id = ? AND version = ?',
          [patch.description, now(), row.id, version],
        );
      await recordAudit(tx, actor, 'version.update', versionNode(model, version), before, patch);
    });
    return this.require(model, version);
  }

  /** Makes a pending version ready (or failed) in one transaction: all its files appear at once. */
  async finish(
    actor: string,
    model: string,
    version: number,
    outcome: {
      status: 'ready' | 'failed';
      formats: Record<string, string | null>;
      inspect: unknown;
      scan: ScanVerdict;
      scanDetail: string | null;
    },
  ): Promise<ModelVersion> {
    await this.store.transaction(async (tx) => {
      const row = await this.models.require(model, tx, true);
      const current = await this.rowIn(tx, row.id, version, 'status');
      if (!current) throw notFound(model, version);
      if (current.status === 'ready') return; // an idempotent retry of a commit that already happened
      for (const [path, format] of Object.entries(outcome.formats))
        await tx.query(
          'UPDATE version_files SET format = ? WHERE model_id = ? AND version = ? AND path = ?',
          [format, row.id, version, path],
        );
      await tx.query(
        'UPDATE versions SET status = ?, inspect = ?, scan = ?, scan_detail = ?, updated_at = ? WHERE model_id = ? AND version = ?',
        [outcome.status, json(outcome.inspect), outcome.scan, outcome.scanDetail, now(), row.id, version],
      );
      await recordAudit(
        tx,
        actor,
        `version.${outcome.status === 'ready' ? 'commit' : 'fail'}`,
        versionNode(model, version),
        { status: current.status },
        { status: outcome.status, scan: outcome.scan },
      );
    });
    return (await this.get(model, version))!;
  }

  async setTag(
    actor: string,
    model: string,
    version: number,
    key: string,
    value: string | null,
  ): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.models.require(model, tx, true);
      if (
        !(
          await tx.query('SELECT 1 AS x FROM versions WHERE model_id = ? AND version = ?', [row.id, version])
        )[0]
      )
        throw notFound(model, version);
      const before = (
        await tx.query('SELECT value FROM version_tags WHERE model_id = ? AND version = ? AND key = ?', [
          row.id,
          version,
          key,
        ])
      )[0];
      await tx.query('DELETE FROM version_tags WHERE model_id = ? AND version = ? AND key = ?', [
        row.id,
        version,
        key,
      ]);
      if (value !== null)
        await tx.query('INSERT INTO version_tags (model_id, version, key, value) VALUES (?, ?, ?, ?)', [
          row.id,
          version,
          key,
          value,
        ]);
      await recordAudit(
        tx,
        actor,
        value === null ? 'version.tag.delete' : 'version.tag.set',
        versionNode(model, version),
        before ? { [key]: before.value } : null,
        value === null ? null : { [key]: value },
      );
    });
  }

  // --- steps of the facade's transactions that span table groups (registry-db.ts) ---

  /** Some columns of one version's row inside `tx` (`columns` is a constant list, never input). */
  async rowIn(tx: Queryable, modelId: string, version: number, columns: string): Promise<Row | undefined> {
    return (
      await tx.query(`SELECT ${columns} FROM versions WHERE model_id = ? AND version = ?`, [modelId, version])
    )[0];
  }

  /** The version an idempotency key already created for the model, with its digest. */
  async byIdempotencyKeyIn(
    tx: Queryable,
    modelId: string,
    key: string,
  ): Promise<{ version: number; digest: string } | undefined> {
    const r = (
      await tx.query('SELECT version, digest FROM versions WHERE model_id = ? AND idempotency_key = ?', [
        modelId,
        key,
      ])
    )[0];
    return r ? { version: Number(r.version), digest: String(r.digest) } : undefined;
  }

  /** Inserts a pending version with its files and tags inside `tx`. */
  async insertIn(
    tx: Queryable,
    actor: string,
    modelId: string,
    version: number,
    input: NewVersion,
    digest: string,
  ): Promise<void> {
    const time = now();
    await tx.query(
      'INSERT INTO versions (model_id, version, status, description, source_uri, run_id, digest, idempotency_key, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        modelId,
        version,
        'pending',
        input.description ?? '',
        input.sourceUri ?? null,
        input.runId ?? null,
        digest,
        input.idempotencyKey ?? null,
        time,
        time,
        actor,
      ],
    );
    for (const f of input.files)
      await tx.query(
        'INSERT INTO version_files (model_id, version, path, sha256, size) VALUES (?, ?, ?, ?, ?)',
        [modelId, version, f.path, f.sha256, f.size],
      );
    for (const [key, value] of Object.entries(input.tags ?? {}))
      await tx.query('INSERT INTO version_tags (model_id, version, key, value) VALUES (?, ?, ?, ?)', [
        modelId,
        version,
        key,
        value,
      ]);
  }

  /** Every version number of a model (pending ones included) inside `tx`. */
  async numbersIn(tx: Queryable, modelId: string): Promise<number[]> {
    return (await tx.query('SELECT version FROM versions WHERE model_id = ?', [modelId])).map((v) =>
      Number(v.version),
    );
  }

  /** Deletes one version inside `tx`; its files, tags and aliases go by cascade. */
  async deleteIn(tx: Queryable, modelId: string, version: number): Promise<void> {
    await tx.query('DELETE FROM versions WHERE model_id = ? AND version = ?', [modelId, version]);
  }
}
