import { randomUUID } from 'node:crypto';
import { registryError } from '../errors.js';
import { parseModelName } from '@ferry/registry-client';
import { AliasStore } from './alias-store.js';
import { AuditStore, recordAudit } from './audit-store.js';
import { ChunkStore } from './chunk-store.js';
import { DeploymentStore } from './deployments.js';
import { ExperimentStore } from './experiment-store.js';
import { LineageStore } from './lineage-store.js';
import type { MetadataStore } from './metadata-store.js';
import { migrate } from './migrations.js';
import { ModelStore, modelNameConflict } from './model-store.js';
import { versionNode } from './node-id.js';
import { type NewRun, type RunRecord, RunStore } from './run-store.js';
import { TokenStore } from './token-store.js';
import type { Model, ModelVersion } from './types.js';
import { UploadSessions } from './uploads.js';
import { versionDigest } from './version-digest.js';
import { type NewVersion, VersionStore } from './version-store.js';
import { WebhookStore } from './webhooks.js';

/**
 * The registry's metadata: one store per table group over one MetadataStore (SQLite or
 * PostgreSQL), and the operations whose transaction spans groups. A change to one group is a
 * method of its store (`db.models.update`, `db.aliases.set`); a change that must write several
 * groups atomically is a method here, one `transaction` composing the stores' `...In(tx)` steps,
 * so every multi-group transaction is in this file. Every mutation writes its audit entry in the
 * same transaction (recordAudit), so the log never disagrees with the data.
 */
export class RegistryDb {
  readonly models: ModelStore;
  readonly versions: VersionStore;
  readonly aliases: AliasStore;
  readonly runs: RunStore;
  readonly experiments: ExperimentStore;
  readonly lineage: LineageStore;
  readonly audit: AuditStore;
  readonly tokens: TokenStore;
  readonly uploads: UploadSessions;
  readonly webhooks: WebhookStore;
  readonly deployments: DeploymentStore;
  readonly chunks: ChunkStore;

  constructor(readonly store: MetadataStore) {
    this.models = new ModelStore(store);
    this.versions = new VersionStore(store, this.models);
    this.aliases = new AliasStore(store, this.models, this.versions);
    this.runs = new RunStore(store);
    this.experiments = new ExperimentStore(store);
    this.lineage = new LineageStore(store);
    this.audit = new AuditStore(store);
    this.tokens = new TokenStore(store);
    this.uploads = new UploadSessions(store);
    this.webhooks = new WebhookStore(store);
    this.deployments = new DeploymentStore(store);
    this.chunks = new ChunkStore(store);
  }

  migrate(): Promise<number[]> {
    return migrate(this.store);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** Renames a model (models); lineage node ids follow (lineage); the audit log keeps the old name. */
  async renameModel(actor: string, name: string, newName: string): Promise<Model> {
    const to = parseModelName(newName);
    try {
      await this.store.transaction(async (tx) => {
        const row = await this.models.require(name, tx, true);
        await this.models.renameIn(tx, row.id, to);
        await this.lineage.renamePrefixIn(tx, `models:/${name}/`, `models:/${to.full}/`);
        await recordAudit(tx, actor, 'model.rename', `models:/${to.full}`, { name }, { name: to.full });
      });
    } catch (error) {
      throw modelNameConflict(error, to.full);
    }
    return (await this.models.get(to.full))!;
  }

  /** Deletes a model with its versions (models, by cascade) and its versions' lineage edges. */
  async deleteModel(actor: string, name: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.models.require(name, tx, true);
      const versions = await this.versions.numbersIn(tx, row.id);
      await this.models.deleteIn(tx, row.id);
      for (const version of versions) await this.lineage.unlinkIn(tx, versionNode(name, version));
      await recordAudit(
        tx,
        actor,
        'model.delete',
        `models:/${name}`,
        { name, versions: versions.length },
        null,
      );
    });
  }

  /**
   * Creates a pending version (invisible to listings and aliases until committed): the model's
   * next number (models), the version with its files and tags (versions), its run and sources
   * (lineage). A retry with the same idempotency key and the same files returns the version the
   * first call created.
   */
  async createVersion(
    actor: string,
    model: string,
    input: NewVersion,
  ): Promise<{ version: ModelVersion; created: boolean }> {
    const digest = versionDigest(input.files);
    const result = await this.store.transaction(async (tx) => {
      const row = await this.models.require(model, tx, true);
      if (input.idempotencyKey) {
        const existing = await this.versions.byIdempotencyKeyIn(tx, row.id, input.idempotencyKey);
        if (existing) {
          if (existing.digest !== digest)
            throw registryError('FERRY_REGISTRY_CONFLICT', {
              what: 'idempotency key',
              name: input.idempotencyKey,
              reason: `already used for version ${existing.version} with other files`,
            });
          return { version: existing.version, created: false };
        }
      }
      const version = await this.models.takeVersionNumberIn(tx, row.id);
      await this.versions.insertIn(tx, actor, row.id, version, input, digest);
      const node = versionNode(model, version);
      if (input.runId) await this.lineage.linkIn(tx, `run:${input.runId}`, node, 'output');
      for (const src of input.derivedFrom ?? []) await this.lineage.linkIn(tx, src, node, 'derived');
      await recordAudit(tx, actor, 'version.create', node, null, { ...input, digest, status: 'pending' });
      return { version, created: true };
    });
    return { version: (await this.versions.get(model, result.version))!, created: result.created };
  }

  /** Deletes a version (versions; its files, tags and aliases by cascade) and its lineage edges. */
  async deleteVersion(actor: string, model: string, version: number): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.models.require(model, tx, true);
      const before = await this.versions.rowIn(tx, row.id, version, 'status, digest');
      if (!before)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'version', name: `${model}/${version}` });
      await this.versions.deleteIn(tx, row.id, version);
      const node = versionNode(model, version);
      await this.lineage.unlinkIn(tx, node);
      await recordAudit(tx, actor, 'version.delete', node, before, null);
    });
  }

  /** Starts a run (runs) and records the datasets it read with their edges into it (lineage). */
  async createRun(actor: string, input: NewRun): Promise<RunRecord> {
    const id = randomUUID().replace(/-/g, '');
    await this.store.transaction(async (tx) => {
      await this.runs.insertIn(tx, actor, id, input);
      for (const d of input.inputs ?? []) {
        const dataset = await this.lineage.upsertDatasetIn(tx, d);
        await this.lineage.linkIn(tx, `dataset:${dataset}`, `run:${id}`, 'input');
      }
      await recordAudit(tx, actor, 'run.create', `run:${id}`, null, input);
    });
    return (await this.runs.get(id))!;
  }
}
