import { createHash, randomUUID } from 'node:crypto';
import { registryError } from '../errors.js';
import { MAX_LINEAGE_DEPTH } from '../limits.js';
import { parseModelName } from '@ferry/registry-client';
import { isUniqueViolation, type MetadataStore, type Queryable } from './metadata-store.js';
import { migrate } from './migrations.js';
import { modelsPage, versionsPage } from './pages.js';
import { type Condition, type Readable, whereClause } from './search.js';
import type {
  Alias,
  AuditEntry,
  Dataset,
  EdgeRelation,
  Grant,
  LineageEdge,
  LineageGraph,
  Metric,
  Model,
  ModelVersion,
  NodeId,
  Run,
  RunStatus,
  ScanVerdict,
  TokenInfo,
  Visibility,
} from './types.js';
import { enqueueWebhooks } from './webhooks.js';

const now = () => new Date().toISOString();
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : null);

interface ModelRow {
  id: string;
  full_name: string;
  namespace: string;
  visibility: Visibility;
}

export interface NewFile {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

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

/** sha256 over the sorted file list: the same files give the same digest, whatever the order. */
export function versionDigest(files: readonly NewFile[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)))
    hash.update(`${f.path}\0${f.sha256}\0${f.size}\n`);
  return hash.digest('hex');
}

export const versionNode = (model: string, version: number): NodeId => `models:/${model}/${version}`;

/**
 * The one query layer over any MetadataStore. Every mutation writes its audit entry in the same
 * transaction, so the log never disagrees with the data.
 */
export class RegistryDb {
  constructor(readonly store: MetadataStore) {}

  migrate(): Promise<number[]> {
    return migrate(this.store);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  // --- models ---

  async createModel(
    actor: string,
    input: { name: string; description?: string; visibility?: Visibility; tags?: Record<string, string> },
  ): Promise<Model> {
    const name = parseModelName(input.name);
    const time = now();
    try {
      await this.store.transaction(async (tx) => {
        const id = randomUUID();
        await tx.query(
          'INSERT INTO models (id, namespace, name, full_name, description, visibility, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [
            id,
            name.namespace,
            name.name,
            name.full,
            input.description ?? '',
            input.visibility ?? 'public',
            time,
            time,
            actor,
          ],
        );
        for (const [key, value] of Object.entries(input.tags ?? {}))
          await tx.query('INSERT INTO model_tags (model_id, key, value) VALUES (?, ?, ?)', [id, key, value]);
        await audit(tx, actor, 'model.create', `models:/${name.full}`, null, input);
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw registryError('FERRY_REGISTRY_CONFLICT', {
          what: 'model',
          name: name.full,
          reason: 'already exists',
        });
      throw error;
    }
    return (await this.getModel(name.full))!;
  }

  /** The model's row for access checks; undefined when absent. */
  async findModel(name: string, tx: Queryable = this.store): Promise<ModelRow | undefined> {
    const rows = await tx.query(
      'SELECT id, full_name, namespace, visibility FROM models WHERE full_name = ?',
      [name],
    );
    return rows[0] as ModelRow | undefined;
  }

  async requireModel(name: string, tx: Queryable = this.store, lock = false): Promise<ModelRow> {
    const rows = await tx.query(
      `SELECT id, full_name, namespace, visibility FROM models WHERE full_name = ?${lock ? ' FOR UPDATE' : ''}`,
      [name],
    );
    const row = rows[0] as ModelRow | undefined;
    if (!row) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'model', name });
    return row;
  }

  async getModel(name: string): Promise<Model | undefined> {
    const [found] = await modelsPage(this.store, 'FROM models m WHERE m.full_name = ?', [name]);
    return found;
  }

  async listModels(filter: { namespace?: string; search?: string } = {}): Promise<Model[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.namespace !== undefined) {
      where.push('m.namespace = ?');
      params.push(filter.namespace);
    }
    if (filter.search) {
      where.push('LOWER(m.full_name) LIKE LOWER(?)');
      params.push(`%${filter.search.replace(/[%_]/g, '')}%`);
    }
    return modelsPage(
      this.store,
      `FROM models m${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY m.full_name`,
      params,
    );
  }

  /** Models matching every condition, readable by the caller, sorted by name; `total` before paging. */
  async searchModels(
    conditions: readonly Condition[],
    readable: Readable,
    page: { limit: number; offset: number },
  ): Promise<{ models: Model[]; total: number }> {
    const where = whereClause(conditions, readable, 'models');
    const [count, models] = await Promise.all([
      this.store.query(`SELECT COUNT(*) AS n FROM models m${where.sql}`, where.params),
      modelsPage(this.store, `FROM models m${where.sql} ORDER BY m.full_name LIMIT ? OFFSET ?`, [
        ...where.params,
        page.limit,
        page.offset,
      ]),
    ]);
    const total = Number(count[0]!.n);
    return { models, total };
  }

  /** Ready versions matching every condition, newest first per model. */
  async searchVersions(
    conditions: readonly Condition[],
    readable: Readable,
    page: { limit: number; offset: number },
  ): Promise<{ versions: ModelVersion[]; total: number }> {
    const where = whereClause(conditions, readable, 'versions');
    const from = `FROM versions v JOIN models m ON m.id = v.model_id${where.sql}${where.sql ? ' AND' : ' WHERE'} v.status = 'ready'`;
    const [count, versions] = await Promise.all([
      this.store.query(`SELECT COUNT(*) AS n ${from}`, where.params),
      versionsPage(
        this.store,
        `SELECT v.*, m.full_name ${from} ORDER BY m.full_name, v.version DESC LIMIT ? OFFSET ?`,
        [...where.params, page.limit, page.offset],
      ),
    ]);
    const total = Number(count[0]!.n);
    return { versions, total };
  }

  /** Renames a model; lineage node ids follow, the audit log keeps the old name in history. */
  async renameModel(actor: string, name: string, newName: string): Promise<Model> {
    const to = parseModelName(newName);
    try {
      await this.store.transaction(async (tx) => {
        const row = await this.requireModel(name, tx, true);
        await tx.query(
          'UPDATE models SET namespace = ?, name = ?, full_name = ?, updated_at = ? WHERE id = ?',
          [to.namespace, to.name, to.full, now(), row.id],
        );
        const oldPrefix = `models:/${name}/`;
        const newPrefix = `models:/${to.full}/`;
        for (const column of ['src', 'dst'])
          await tx.query(
            `UPDATE lineage_edges SET ${column} = CAST(? AS TEXT) || SUBSTR(${column}, ?) WHERE SUBSTR(${column}, 1, ?) = ?`,
            [newPrefix, oldPrefix.length + 1, oldPrefix.length, oldPrefix],
          );
        await audit(tx, actor, 'model.rename', `models:/${to.full}`, { name }, { name: to.full });
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw registryError('FERRY_REGISTRY_CONFLICT', {
          what: 'model',
          name: to.full,
          reason: 'already exists',
        });
      throw error;
    }
    return (await this.getModel(to.full))!;
  }

  async updateVersion(
    actor: string,
    model: string,
    version: number,
    patch: { description?: string },
  ): Promise<ModelVersion> {
    await this.store.transaction(async (tx) => {
      const row = await this.requireModel(model, tx, true);
      const before = (
        await tx.query('SELECT description FROM versions WHERE model_id = ? AND version = ?', [
          row.id,
          version,
        ])
      )[0];
      if (!before)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'version', name: `${model}/${version}` });
      if (patch.description !== undefined)
        await tx.query(
          'UPDATE versions SET description = ?, updated_at = ? WHERE model_id = ? AND version = ?',
          [patch.description, now(), row.id, version],
        );
      await audit(tx, actor, 'version.update', versionNode(model, version), before, patch);
    });
    return this.requireVersion(model, version);
  }

  async updateModel(
    actor: string,
    name: string,
    patch: { description?: string; visibility?: Visibility },
  ): Promise<Model> {
    await this.store.transaction(async (tx) => {
      const row = await this.requireModel(name, tx, true);
      const before = (await tx.query('SELECT description, visibility FROM models WHERE id = ?', [row.id]))[0];
      const after = { ...before, ...patch };
      await tx.query('UPDATE models SET description = ?, visibility = ?, updated_at = ? WHERE id = ?', [
        String(after.description),
        String(after.visibility),
        now(),
        row.id,
      ]);
      await audit(tx, actor, 'model.update', `models:/${name}`, before, after);
    });
    return (await this.getModel(name))!;
  }

  async deleteModel(actor: string, name: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.requireModel(name, tx, true);
      const versions = await tx.query('SELECT version FROM versions WHERE model_id = ?', [row.id]);
      await tx.query('DELETE FROM models WHERE id = ?', [row.id]);
      for (const v of versions) {
        const node = versionNode(name, Number(v.version));
        await tx.query('DELETE FROM lineage_edges WHERE src = ? OR dst = ?', [node, node]);
      }
      await audit(tx, actor, 'model.delete', `models:/${name}`, { name, versions: versions.length }, null);
    });
  }

  async setModelTag(actor: string, name: string, key: string, value: string | null): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.requireModel(name, tx, true);
      const before = (
        await tx.query('SELECT value FROM model_tags WHERE model_id = ? AND key = ?', [row.id, key])
      )[0];
      await tx.query('DELETE FROM model_tags WHERE model_id = ? AND key = ?', [row.id, key]);
      if (value !== null)
        await tx.query('INSERT INTO model_tags (model_id, key, value) VALUES (?, ?, ?)', [
          row.id,
          key,
          value,
        ]);
      await audit(
        tx,
        actor,
        value === null ? 'model.tag.delete' : 'model.tag.set',
        `models:/${name}`,
        before ? { [key]: before.value } : null,
        value === null ? null : { [key]: value },
      );
    });
  }

  async setCard(actor: string, name: string, card: string | null): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.requireModel(name, tx, true);
      const before = (await tx.query('SELECT card FROM models WHERE id = ?', [row.id]))[0]?.card ?? null;
      await tx.query('UPDATE models SET card = ?, updated_at = ? WHERE id = ?', [card, now(), row.id]);
      await audit(tx, actor, 'model.card', `models:/${name}`, { card: before }, { card });
    });
  }

  async getCard(name: string): Promise<string | null> {
    const rows = await this.store.query('SELECT card FROM models WHERE full_name = ?', [name]);
    if (!rows[0]) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'model', name });
    return str(rows[0].card);
  }

  // --- versions ---

  /**
   * Creates a pending version (invisible to listings and aliases until committed). A retry with
   * the same idempotency key and the same files returns the version the first call created.
   */
  async createVersion(
    actor: string,
    model: string,
    input: NewVersion,
  ): Promise<{ version: ModelVersion; created: boolean }> {
    const digest = versionDigest(input.files);
    const result = await this.store.transaction(async (tx) => {
      const row = await this.requireModel(model, tx, true);
      if (input.idempotencyKey) {
        const existing = await tx.query(
          'SELECT version, digest FROM versions WHERE model_id = ? AND idempotency_key = ?',
          [row.id, input.idempotencyKey],
        );
        if (existing[0]) {
          if (existing[0].digest !== digest)
            throw registryError('FERRY_REGISTRY_CONFLICT', {
              what: 'idempotency key',
              name: input.idempotencyKey,
              reason: `already used for version ${existing[0].version} with other files`,
            });
          return { version: Number(existing[0].version), created: false };
        }
      }
      // The row lock (FOR UPDATE above, BEGIN IMMEDIATE on SQLite) makes this increment monotonic.
      await tx.query('UPDATE models SET next_version = next_version + 1, updated_at = ? WHERE id = ?', [
        now(),
        row.id,
      ]);
      const version = Number(
        (await tx.query('SELECT next_version FROM models WHERE id = ?', [row.id]))[0]!.next_version,
      );
      const time = now();
      await tx.query(
        'INSERT INTO versions (model_id, version, status, description, source_uri, run_id, digest, idempotency_key, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          row.id,
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
          [row.id, version, f.path, f.sha256, f.size],
        );
      for (const [key, value] of Object.entries(input.tags ?? {}))
        await tx.query('INSERT INTO version_tags (model_id, version, key, value) VALUES (?, ?, ?, ?)', [
          row.id,
          version,
          key,
          value,
        ]);
      if (input.runId) await addEdge(tx, `run:${input.runId}`, versionNode(model, version), 'output');
      for (const src of input.derivedFrom ?? [])
        await addEdge(tx, src, versionNode(model, version), 'derived');
      await audit(tx, actor, 'version.create', versionNode(model, version), null, {
        ...input,
        digest,
        status: 'pending',
      });
      return { version, created: true };
    });
    return { version: (await this.getVersion(model, result.version))!, created: result.created };
  }

  /** Makes a pending version ready (or failed) in one transaction: all its files appear at once. */
  async finishVersion(
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
      const row = await this.requireModel(model, tx, true);
      const current = (
        await tx.query('SELECT status FROM versions WHERE model_id = ? AND version = ?', [row.id, version])
      )[0];
      if (!current)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'version', name: `${model}/${version}` });
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
      await audit(
        tx,
        actor,
        `version.${outcome.status === 'ready' ? 'commit' : 'fail'}`,
        versionNode(model, version),
        { status: current.status },
        { status: outcome.status, scan: outcome.scan },
      );
    });
    return (await this.getVersion(model, version))!;
  }

  async getVersion(model: string, version: number): Promise<ModelVersion | undefined> {
    const [found] = await versionsPage(
      this.store,
      'SELECT v.*, m.full_name FROM versions v JOIN models m ON m.id = v.model_id WHERE m.full_name = ? AND v.version = ?',
      [model, version],
    );
    return found;
  }

  async requireVersion(model: string, version: number): Promise<ModelVersion> {
    const v = await this.getVersion(model, version);
    if (!v) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'version', name: `${model}/${version}` });
    return v;
  }

  async listVersions(model: string, options: { includePending?: boolean } = {}): Promise<ModelVersion[]> {
    // By name in one query; the model's existence is asked only when it has no versions to list
    // (a round trip fewer to PostgreSQL on every listing).
    const versions = await versionsPage(
      this.store,
      `SELECT v.*, m.full_name FROM versions v JOIN models m ON m.id = v.model_id WHERE m.full_name = ?${options.includePending ? '' : " AND v.status = 'ready'"} ORDER BY v.version`,
      [model],
    );
    if (versions.length === 0) await this.requireModel(model);
    return versions;
  }

  /** A commit-like digest (or a unique prefix of at least 7 hex digits) to its ready version. */
  async findVersionByDigest(model: string, digest: string): Promise<number | undefined> {
    if (!/^[0-9a-f]{7,64}$/.test(digest)) return undefined;
    const row = await this.requireModel(model);
    const rows = await this.store.query(
      "SELECT version FROM versions WHERE model_id = ? AND status = 'ready' AND digest LIKE ?",
      [row.id, `${digest}%`],
    );
    return rows.length === 1 ? Number(rows[0]!.version) : undefined;
  }

  async deleteVersion(actor: string, model: string, version: number): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.requireModel(model, tx, true);
      const before = (
        await tx.query('SELECT status, digest FROM versions WHERE model_id = ? AND version = ?', [
          row.id,
          version,
        ])
      )[0];
      if (!before)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'version', name: `${model}/${version}` });
      await tx.query('DELETE FROM versions WHERE model_id = ? AND version = ?', [row.id, version]);
      const node = versionNode(model, version);
      await tx.query('DELETE FROM lineage_edges WHERE src = ? OR dst = ?', [node, node]);
      await audit(tx, actor, 'version.delete', node, before, null);
    });
  }

  async setVersionTag(
    actor: string,
    model: string,
    version: number,
    key: string,
    value: string | null,
  ): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.requireModel(model, tx, true);
      if (
        !(
          await tx.query('SELECT 1 AS x FROM versions WHERE model_id = ? AND version = ?', [row.id, version])
        )[0]
      )
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'version', name: `${model}/${version}` });
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
      await audit(
        tx,
        actor,
        value === null ? 'version.tag.delete' : 'version.tag.set',
        versionNode(model, version),
        before ? { [key]: before.value } : null,
        value === null ? null : { [key]: value },
      );
    });
  }

  /** True when some version (of any model) references this blob: deduplicated blobs are shared. */
  async blobReferenced(sha256: string): Promise<boolean> {
    return (
      (await this.store.query('SELECT 1 AS x FROM version_files WHERE sha256 = ? LIMIT 1', [sha256])).length >
      0
    );
  }

  /** The latest ready version of each model (as its `latestVersion` says), in one round of queries. */
  async latestVersions(
    models: readonly { name: string; latestVersion: number | null }[],
  ): Promise<ModelVersion[]> {
    const wanted = models.filter((m) => m.latestVersion !== null);
    if (wanted.length === 0) return [];
    return versionsPage(
      this.store,
      `SELECT v.*, m.full_name FROM versions v JOIN models m ON m.id = v.model_id WHERE ${wanted.map(() => '(m.full_name = ? AND v.version = ?)').join(' OR ')} ORDER BY m.full_name`,
      wanted.flatMap((m) => [m.name, m.latestVersion!]),
    );
  }

  // --- aliases ---

  /**
   * Points an alias at a ready version in one transaction under the model's row lock: concurrent
   * moves serialize, and a reader sees the old or the new target, never neither.
   * `allowProtected` says the caller holds the admin scope (protected aliases need it).
   */
  async setAlias(
    actor: string,
    model: string,
    alias: string,
    version: number,
    options: { protect?: boolean; allowProtected: boolean },
  ): Promise<Alias> {
    await this.store.transaction(async (tx) => {
      const row = await this.requireModel(model, tx, true);
      const target = (
        await tx.query('SELECT status FROM versions WHERE model_id = ? AND version = ?', [row.id, version])
      )[0];
      if (target?.status !== 'ready')
        throw registryError(target ? 'FERRY_REGISTRY_CONFLICT' : 'FERRY_REGISTRY_NOT_FOUND', {
          what: 'version',
          name: `${model}/${version}`,
          reason: `is ${target?.status}, only ready versions take aliases`,
        });
      const before = (
        await tx.query('SELECT version, protected FROM aliases WHERE model_id = ? AND alias = ?', [
          row.id,
          alias,
        ])
      )[0];
      const wasProtected = Number(before?.protected ?? 0) === 1;
      const protect = options.protect ?? wasProtected;
      if ((wasProtected || protect) && !options.allowProtected)
        throw registryError('FERRY_REGISTRY_FORBIDDEN', {
          actor,
          scope: 'admin',
          resource: `protected alias ${model}@${alias}`,
        });
      if (before)
        await tx.query(
          'UPDATE aliases SET version = ?, protected = ?, updated_at = ? WHERE model_id = ? AND alias = ?',
          [version, protect ? 1 : 0, now(), row.id, alias],
        );
      else
        await tx.query(
          'INSERT INTO aliases (model_id, alias, version, protected, updated_at) VALUES (?, ?, ?, ?, ?)',
          [row.id, alias, version, protect ? 1 : 0, now()],
        );
      await audit(
        tx,
        actor,
        'alias.set',
        `models:/${model}@${alias}`,
        before ? { version: Number(before.version), protected: wasProtected } : null,
        { version, protected: protect },
      );
    });
    return (await this.getAlias(model, alias))!;
  }

  async deleteAlias(actor: string, model: string, alias: string, allowProtected: boolean): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.requireModel(model, tx, true);
      const before = (
        await tx.query('SELECT version, protected FROM aliases WHERE model_id = ? AND alias = ?', [
          row.id,
          alias,
        ])
      )[0];
      if (!before)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'alias', name: `${model}@${alias}` });
      if (Number(before.protected) === 1 && !allowProtected)
        throw registryError('FERRY_REGISTRY_FORBIDDEN', {
          actor,
          scope: 'admin',
          resource: `protected alias ${model}@${alias}`,
        });
      await tx.query('DELETE FROM aliases WHERE model_id = ? AND alias = ?', [row.id, alias]);
      await audit(
        tx,
        actor,
        'alias.delete',
        `models:/${model}@${alias}`,
        { version: Number(before.version) },
        null,
      );
    });
  }

  async getAlias(model: string, alias: string): Promise<Alias | undefined> {
    const rows = await this.store.query(
      'SELECT a.* FROM aliases a JOIN models m ON m.id = a.model_id WHERE m.full_name = ? AND a.alias = ?',
      [model, alias],
    );
    const a = rows[0];
    return a
      ? {
          model,
          alias,
          version: Number(a.version),
          protected: Number(a.protected) === 1,
          updatedAt: String(a.updated_at),
        }
      : undefined;
  }

  // --- runs, datasets, lineage ---

  async createRun(
    actor: string,
    input: {
      name?: string;
      params?: Record<string, string>;
      tags?: Record<string, string>;
      inputs?: { name: string; digest: string; source?: string }[];
    },
  ): Promise<Run> {
    const id = randomUUID().replace(/-/g, '');
    await this.store.transaction(async (tx) => {
      await tx.query('INSERT INTO runs (id, name, status, start_time, created_by) VALUES (?, ?, ?, ?, ?)', [
        id,
        input.name ?? id.slice(0, 8),
        'running',
        now(),
        actor,
      ]);
      for (const [key, value] of Object.entries(input.params ?? {}))
        await tx.query('INSERT INTO run_params (run_id, key, value) VALUES (?, ?, ?)', [id, key, value]);
      for (const [key, value] of Object.entries(input.tags ?? {}))
        await tx.query('INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)', [id, key, value]);
      for (const d of input.inputs ?? []) {
        const dataset = await upsertDataset(tx, d);
        await addEdge(tx, `dataset:${dataset}`, `run:${id}`, 'input');
      }
      await audit(tx, actor, 'run.create', `run:${id}`, null, input);
    });
    return (await this.getRun(id))!;
  }

  async logRun(
    actor: string,
    id: string,
    input: {
      params?: Record<string, string>;
      tags?: Record<string, string>;
      metrics?: { key: string; value: number; step?: number }[];
      status?: RunStatus;
    },
  ): Promise<Run> {
    await this.store.transaction(async (tx) => {
      const run = (await tx.query('SELECT status FROM runs WHERE id = ? FOR UPDATE', [id]))[0];
      if (!run) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'run', name: id });
      for (const [key, value] of Object.entries(input.params ?? {})) {
        const old = (
          await tx.query('SELECT value FROM run_params WHERE run_id = ? AND key = ?', [id, key])
        )[0];
        // MLflow's rule: a param is logged once; changing it would rewrite history.
        if (old && old.value !== value)
          throw registryError('FERRY_REGISTRY_CONFLICT', {
            what: 'param',
            name: key,
            reason: `already logged as ${JSON.stringify(old.value)}`,
          });
        if (!old)
          await tx.query('INSERT INTO run_params (run_id, key, value) VALUES (?, ?, ?)', [id, key, value]);
      }
      for (const [key, value] of Object.entries(input.tags ?? {})) {
        await tx.query('DELETE FROM run_tags WHERE run_id = ? AND key = ?', [id, key]);
        await tx.query('INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)', [id, key, value]);
      }
      for (const m of input.metrics ?? []) {
        const step =
          m.step ??
          Number(
            (
              await tx.query('SELECT COUNT(*) AS n FROM run_metrics WHERE run_id = ? AND key = ?', [
                id,
                m.key,
              ])
            )[0]!.n,
          );
        await tx.query('INSERT INTO run_metrics (run_id, key, value, step, time) VALUES (?, ?, ?, ?, ?)', [
          id,
          m.key,
          m.value,
          step,
          now(),
        ]);
      }
      if (input.status && input.status !== run.status)
        await tx.query('UPDATE runs SET status = ?, end_time = ? WHERE id = ?', [
          input.status,
          input.status === 'running' ? null : now(),
          id,
        ]);
      await audit(tx, actor, 'run.log', `run:${id}`, { status: run.status }, input);
    });
    return (await this.getRun(id))!;
  }

  async getRun(id: string): Promise<Run | undefined> {
    const run = (await this.store.query('SELECT * FROM runs WHERE id = ?', [id]))[0];
    if (!run) return undefined;
    const [params, tags, metrics] = await Promise.all([
      this.store.query('SELECT key, value FROM run_params WHERE run_id = ? ORDER BY key', [id]),
      this.store.query('SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY key', [id]),
      this.store.query('SELECT key, value, step, time FROM run_metrics WHERE run_id = ? ORDER BY key, step', [
        id,
      ]),
    ]);
    return {
      id,
      name: String(run.name),
      status: run.status as RunStatus,
      startTime: String(run.start_time),
      endTime: str(run.end_time),
      createdBy: String(run.created_by),
      params: Object.fromEntries(params.map((p) => [String(p.key), String(p.value)])),
      tags: Object.fromEntries(tags.map((p) => [String(p.key), String(p.value)])),
      metrics: metrics.map(
        (m): Metric => ({
          key: String(m.key),
          value: Number(m.value),
          step: Number(m.step),
          time: String(m.time),
        }),
      ),
    };
  }

  async getDataset(id: string): Promise<Dataset | undefined> {
    const d = (await this.store.query('SELECT * FROM datasets WHERE id = ?', [id]))[0];
    return d
      ? {
          id,
          name: String(d.name),
          digest: String(d.digest),
          source: str(d.source),
          createdAt: String(d.created_at),
        }
      : undefined;
  }

  async addEdge(actor: string, src: NodeId, dst: NodeId, relation: EdgeRelation): Promise<void> {
    await this.store.transaction(async (tx) => {
      await addEdge(tx, src, dst, relation);
      await audit(tx, actor, 'lineage.add', dst, null, { src, dst, relation });
    });
  }

  /** Upstream (what a node came from) and downstream (what came from it), breadth-first, bounded. */
  async lineage(
    root: NodeId,
    depth = MAX_LINEAGE_DEPTH,
  ): Promise<{ upstream: LineageGraph; downstream: LineageGraph }> {
    const walk = async (column: 'src' | 'dst'): Promise<LineageGraph> => {
      const other = column === 'dst' ? 'src' : 'dst';
      const seen = new Set<NodeId>([root]);
      const edges: LineageEdge[] = [];
      let frontier = [root];
      for (let level = 0; level < Math.min(depth, MAX_LINEAGE_DEPTH) && frontier.length > 0; level++) {
        const next: NodeId[] = [];
        for (const node of frontier) {
          const rows = await this.store.query(
            `SELECT src, dst, relation FROM lineage_edges WHERE ${column} = ? ORDER BY ${other}`,
            [node],
          );
          for (const r of rows) {
            edges.push({ src: String(r.src), dst: String(r.dst), relation: r.relation as EdgeRelation });
            const reached = String(r[other]);
            if (!seen.has(reached)) {
              seen.add(reached);
              next.push(reached);
            }
          }
        }
        frontier = next;
      }
      return { root, nodes: [...seen], edges };
    };
    return { upstream: await walk('dst'), downstream: await walk('src') };
  }

  // --- audit ---

  async auditLog(filter: { target?: string; limit?: number; afterId?: number } = {}): Promise<AuditEntry[]> {
    const where: string[] = ['id > ?'];
    const params: (string | number)[] = [filter.afterId ?? 0];
    if (filter.target) {
      where.push('target = ?');
      params.push(filter.target);
    }
    params.push(filter.limit ?? 100);
    const rows = await this.store.query(
      `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`,
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

  // --- users and tokens ---

  /** Stores a token's hash (never the token) for a user, creating the user when new. */
  async createToken(
    actor: string,
    user: string,
    tokenHash: string,
    grants: readonly Grant[],
    description = '',
  ): Promise<TokenInfo> {
    const id = randomUUID();
    const time = now();
    await this.store.transaction(async (tx) => {
      if (!(await tx.query('SELECT 1 AS x FROM users WHERE name = ?', [user]))[0])
        await tx.query('INSERT INTO users (name, created_at) VALUES (?, ?)', [user, time]);
      await tx.query(
        'INSERT INTO tokens (id, user_name, token_hash, scopes, description, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [id, user, tokenHash, JSON.stringify(grants), description, time],
      );
      await audit(tx, actor, 'token.create', `user:${user}`, null, { id, grants, description });
    });
    return { id, user, grants, description, createdAt: time };
  }

  /** Creates the first admin token only when no token exists yet; false when another server won. */
  async createFirstAdmin(tokenHash: string): Promise<boolean> {
    return this.store.transaction(async (tx) => {
      if (this.store.dialect === 'postgres') await tx.query('LOCK TABLE tokens IN EXCLUSIVE MODE');
      if ((await tx.query('SELECT 1 AS x FROM tokens LIMIT 1'))[0]) return false;
      const time = now();
      if (!(await tx.query('SELECT 1 AS x FROM users WHERE name = ?', ['admin']))[0])
        await tx.query('INSERT INTO users (name, created_at) VALUES (?, ?)', ['admin', time]);
      await tx.query(
        'INSERT INTO tokens (id, user_name, token_hash, scopes, description, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [
          randomUUID(),
          'admin',
          tokenHash,
          JSON.stringify([{ scope: 'admin', resource: '*' }]),
          'first-start admin token',
          time,
        ],
      );
      await audit(tx, 'system', 'token.create', 'user:admin', null, {
        grants: [{ scope: 'admin', resource: '*' }],
        description: 'first-start admin token',
      });
      return true;
    });
  }

  async findToken(tokenHash: string): Promise<(TokenInfo & { hash: string }) | undefined> {
    const r = (await this.store.query('SELECT * FROM tokens WHERE token_hash = ?', [tokenHash]))[0];
    return r
      ? {
          id: String(r.id),
          user: String(r.user_name),
          grants: JSON.parse(String(r.scopes)),
          description: String(r.description),
          createdAt: String(r.created_at),
          hash: String(r.token_hash),
        }
      : undefined;
  }

  async listTokens(user?: string): Promise<TokenInfo[]> {
    const rows = await this.store.query(
      `SELECT * FROM tokens${user ? ' WHERE user_name = ?' : ''} ORDER BY created_at`,
      user ? [user] : [],
    );
    return rows.map((r) => ({
      id: String(r.id),
      user: String(r.user_name),
      grants: JSON.parse(String(r.scopes)),
      description: String(r.description),
      createdAt: String(r.created_at),
    }));
  }

  async deleteToken(actor: string, id: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const before = (await tx.query('SELECT user_name, scopes FROM tokens WHERE id = ?', [id]))[0];
      if (!before) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'token', name: id });
      await tx.query('DELETE FROM tokens WHERE id = ?', [id]);
      await audit(tx, actor, 'token.delete', `user:${before.user_name}`, { id, scopes: before.scopes }, null);
    });
  }

  // --- resumable upload sessions (state shared by every server on this database) ---

  async createUpload(actor: string, id: string, state: unknown): Promise<void> {
    await this.store.query(
      'INSERT INTO uploads (id, state, received, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?, ?)',
      [id, JSON.stringify(state), 0, now(), now(), actor],
    );
  }

  async getUpload(id: string): Promise<{ state: unknown; received: number; createdBy: string } | undefined> {
    const r = (await this.store.query('SELECT * FROM uploads WHERE id = ?', [id]))[0];
    return r
      ? { state: JSON.parse(String(r.state)), received: Number(r.received), createdBy: String(r.created_by) }
      : undefined;
  }

  /** Records progress only if nobody else moved the upload on meanwhile (optimistic check). */
  async advanceUpload(id: string, from: number, to: number, state: unknown): Promise<boolean> {
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

  async deleteUpload(id: string): Promise<void> {
    await this.store.query('DELETE FROM uploads WHERE id = ?', [id]);
  }
}

async function audit(
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

async function addEdge(tx: Queryable, src: NodeId, dst: NodeId, relation: EdgeRelation): Promise<void> {
  const exists = await tx.query(
    'SELECT 1 AS x FROM lineage_edges WHERE src = ? AND dst = ? AND relation = ?',
    [src, dst, relation],
  );
  if (!exists[0])
    await tx.query('INSERT INTO lineage_edges (src, dst, relation, created_at) VALUES (?, ?, ?, ?)', [
      src,
      dst,
      relation,
      now(),
    ]);
}

async function upsertDataset(
  tx: Queryable,
  d: { name: string; digest: string; source?: string },
): Promise<string> {
  const existing = (
    await tx.query('SELECT id FROM datasets WHERE name = ? AND digest = ?', [d.name, d.digest])
  )[0];
  if (existing) return String(existing.id);
  const id = randomUUID().replace(/-/g, '');
  await tx.query('INSERT INTO datasets (id, name, digest, source, created_at) VALUES (?, ?, ?, ?, ?)', [
    id,
    d.name,
    d.digest,
    d.source ?? null,
    now(),
  ]);
  return id;
}
