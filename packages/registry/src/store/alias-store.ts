import { registryError } from '../errors.js';
import { recordAudit } from './audit-store.js';
import type { MetadataStore } from './metadata-store.js';
import type { ModelStore } from './model-store.js';
import { now } from './sql-values.js';
import type { Alias } from './types.js';
import type { VersionStore } from './version-store.js';

const forbidden = (actor: string, model: string, alias: string) =>
  registryError('FERRY_REGISTRY_FORBIDDEN', {
    actor,
    scope: 'admin',
    resource: `protected alias ${model}@${alias}`,
  });

/** Aliases (`aliases`): a name per model pointing at one of its ready versions. */
export class AliasStore {
  constructor(
    private readonly store: MetadataStore,
    private readonly models: ModelStore,
    private readonly versions: VersionStore,
  ) {}

  /**
   * Points an alias at a ready version in one transaction under the model's row lock: concurrent
   * moves serialize, and a reader sees the old or the new target, never neither.
   * `allowProtected` says the caller holds the admin scope (protected aliases need it).
   */
  async set(
    actor: string,
    model: string,
    alias: string,
    version: number,
    options: { protect?: boolean; allowProtected: boolean },
  ): Promise<Alias> {
    await this.store.transaction(async (tx) => {
      const row = await this.models.require(model, tx, true);
      const target = await this.versions.rowIn(tx, row.id, version, 'status');
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
      if ((wasProtected || protect) && !options.allowProtected) throw forbidden(actor, model, alias);
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
      await recordAudit(
        tx,
        actor,
        'alias.set',
        `models:/${model}@${alias}`,
        before ? { version: Number(before.version), protected: wasProtected } : null,
        { version, protected: protect },
      );
    });
    return (await this.get(model, alias))!;
  }

  async delete(actor: string, model: string, alias: string, allowProtected: boolean): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.models.require(model, tx, true);
      const before = (
        await tx.query('SELECT version, protected FROM aliases WHERE model_id = ? AND alias = ?', [
          row.id,
          alias,
        ])
      )[0];
      if (!before)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'alias', name: `${model}@${alias}` });
      if (Number(before.protected) === 1 && !allowProtected) throw forbidden(actor, model, alias);
      await tx.query('DELETE FROM aliases WHERE model_id = ? AND alias = ?', [row.id, alias]);
      await recordAudit(
        tx,
        actor,
        'alias.delete',
        `models:/${model}@${alias}`,
        { version: Number(before.version) },
        null,
      );
    });
  }

  async get(model: string, alias: string): Promise<Alias | undefined> {
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
}
