import { randomUUID } from 'node:crypto';
import { registryError } from '../errors.js';
import { type ModelName, parseModelName } from '@ferry/registry-client';
import { recordAudit } from './audit-store.js';
import { isUniqueViolation, type MetadataStore, type Queryable } from './metadata-store.js';
import { modelsPage } from './pages.js';
import { type Condition, type Readable, whereClause } from './search.js';
import { now, str } from './sql-values.js';
import type { Model, Visibility } from './types.js';

/** A model's row as access checks and the other stores need it. */
export interface ModelRow {
  readonly id: string;
  readonly full_name: string;
  readonly namespace: string;
  readonly visibility: Visibility;
}

/** A unique violation on a model's name as the registry's conflict error; anything else as is. */
export function modelNameConflict(error: unknown, name: string): unknown {
  return isUniqueViolation(error)
    ? registryError('FERRY_REGISTRY_CONFLICT', { what: 'model', name, reason: 'already exists' })
    : error;
}

/**
 * Models and their tags (`models`, `model_tags`). The model's row is also the per-model lock every
 * other store takes (`require(name, tx, true)`) before changing the model's versions or aliases.
 */
export class ModelStore {
  constructor(private readonly store: MetadataStore) {}

  async create(
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
        await recordAudit(tx, actor, 'model.create', `models:/${name.full}`, null, input);
      });
    } catch (error) {
      throw modelNameConflict(error, name.full);
    }
    return (await this.get(name.full))!;
  }

  /** The model's row for access checks; undefined when absent. */
  async find(name: string, tx: Queryable = this.store): Promise<ModelRow | undefined> {
    const rows = await tx.query(
      'SELECT id, full_name, namespace, visibility FROM models WHERE full_name = ?',
      [name],
    );
    return rows[0] as ModelRow | undefined;
  }

  /** The model's row or NOT_FOUND; `lock` takes the row lock for the rest of `tx`. */
  async require(name: string, tx: Queryable = this.store, lock = false): Promise<ModelRow> {
    const rows = await tx.query(
      `SELECT id, full_name, namespace, visibility FROM models WHERE full_name = ?${lock ? ' FOR UPDATE' : ''}`,
      [name],
    );
    const row = rows[0] as ModelRow | undefined;
    if (!row) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'model', name });
    return row;
  }

  async get(name: string): Promise<Model | undefined> {
    const [found] = await modelsPage(this.store, 'FROM models m WHERE m.full_name = ?', [name]);
    return found;
  }

  async list(filter: { namespace?: string; search?: string } = {}): Promise<Model[]> {
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
  async search(
    conditions: readonly Condition[],
    readable: Readable,
    page: { limit: number; offset: number },
    /** ORDER BY terms built by the caller from a fixed column list (MLflow's order_by). */
    order: readonly string[] = [],
  ): Promise<{ models: Model[]; total: number }> {
    const where = whereClause(conditions, readable, 'models');
    const [count, models] = await Promise.all([
      this.store.query(`SELECT COUNT(*) AS n FROM models m${where.sql}`, where.params),
      modelsPage(
        this.store,
        `FROM models m${where.sql} ORDER BY ${[...order, 'm.full_name'].join(', ')} LIMIT ? OFFSET ?`,
        [...where.params, page.limit, page.offset],
      ),
    ]);
    const total = Number(count[0]!.n);
    return { models, total };
  }

  async update(
    actor: string,
    name: string,
    patch: { description?: string; visibility?: Visibility },
  ): Promise<Model> {
    await this.store.transaction(async (tx) => {
      const row = await this.require(name, tx, true);
      const before = (await tx.query('SELECT description, visibility FROM models WHERE id = ?', [row.id]))[0];
      const after = { ...before, ...patch };
      await tx.query('UPDATE models SET description = ?, visibility = ?, updated_at = ? WHERE id = ?', [
        String(after.description),
        String(after.visibility),
        now(),
        row.id,
      ]);
      await recordAudit(tx, actor, 'model.update', `models:/${name}`, before, after);
    });
    return (await this.get(name))!;
  }

  async setTag(actor: string, name: string, key: string, value: string | null): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.require(name, tx, true);
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
      await recordAudit(
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
      const row = await this.require(name, tx, true);
      const before = (await tx.query('SELECT card FROM models WHERE id = ?', [row.id]))[0]?.card ?? null;
      await tx.query('UPDATE models SET card = ?, updated_at = ? WHERE id = ?', [card, now(), row.id]);
      await recordAudit(tx, actor, 'model.card', `models:/${name}`, { card: before }, { card });
    });
  }

  async getCard(name: string): Promise<string | null> {
    const rows = await this.store.query('SELECT card FROM models WHERE full_name = ?', [name]);
    if (!rows[0]) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'model', name });
    return str(rows[0].card);
  }

  // --- steps of the facade's transactions that span table groups (registry-db.ts) ---

  /** Renames the locked model's row inside `tx`. */
  async renameIn(tx: Queryable, id: string, to: ModelName): Promise<void> {
    await tx.query('UPDATE models SET namespace = ?, name = ?, full_name = ?, updated_at = ? WHERE id = ?', [
      to.namespace,
      to.name,
      to.full,
      now(),
      id,
    ]);
  }

  /** Deletes the locked model's row inside `tx`; its tags, versions and aliases go by cascade. */
  async deleteIn(tx: Queryable, id: string): Promise<void> {
    await tx.query('DELETE FROM models WHERE id = ?', [id]);
  }

  /**
   * Takes the locked model's next version number inside `tx`. The row lock (FOR UPDATE, BEGIN
   * IMMEDIATE on SQLite) makes the increment monotonic.
   */
  async takeVersionNumberIn(tx: Queryable, id: string): Promise<number> {
    await tx.query('UPDATE models SET next_version = next_version + 1, updated_at = ? WHERE id = ?', [
      now(),
      id,
    ]);
    return Number((await tx.query('SELECT next_version FROM models WHERE id = ?', [id]))[0]!.next_version);
  }
}
