import { registryError } from '../errors.js';
import { recordAudit } from './audit-store.js';
import { isUniqueViolation, type MetadataStore, type Row, type SqlValue } from './metadata-store.js';
import { type RunCondition, conditionSql, type OrderTerm } from './run-search.js';
import { now } from './sql-values.js';

/** An MLflow experiment: a named group of runs (`experiments`, `experiment_tags`). */
export interface Experiment {
  readonly id: string;
  readonly name: string;
  readonly artifactLocation: string | null;
  readonly lifecycleStage: 'active' | 'deleted';
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** Which experiments or runs a listing shows, as MLflow's ViewType says. */
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export function lifecycleSql(column: string, view: ViewType): string {
  return view === 'ALL' ? 'TRUE' : `${column} = '${view === 'ACTIVE_ONLY' ? 'active' : 'deleted'}'`;
}

export class ExperimentStore {
  constructor(private readonly store: MetadataStore) {}

  async create(
    actor: string,
    input: { name: string; artifactLocation?: string; tags?: Record<string, string> },
  ): Promise<string> {
    try {
      return await this.store.transaction(async (tx) => {
        const time = now();
        const row = (
          await tx.query(
            'INSERT INTO experiments (name, artifact_location, lifecycle_stage, created_at, updated_at, created_by) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
            [input.name, input.artifactLocation ?? null, 'active', time, time, actor],
          )
        )[0]!;
        const id = String(row.id);
        for (const [key, value] of Object.entries(input.tags ?? {}))
          await tx.query('INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)', [
            Number(id),
            key,
            value,
          ]);
        await recordAudit(tx, actor, 'experiment.create', `experiment:${id}`, null, input);
        return id;
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw registryError('FERRY_REGISTRY_CONFLICT', {
          what: 'experiment',
          name: input.name,
          reason: 'already exists',
        });
      throw error;
    }
  }

  async get(id: string): Promise<Experiment | undefined> {
    if (!/^\d{1,15}$/.test(id)) return undefined;
    const row = (await this.store.query('SELECT * FROM experiments WHERE id = ?', [Number(id)]))[0];
    return row ? this.hydrate(row) : undefined;
  }

  async require(id: string): Promise<Experiment> {
    const experiment = await this.get(id);
    if (!experiment) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'experiment', name: id });
    return experiment;
  }

  async getByName(name: string): Promise<Experiment | undefined> {
    const row = (await this.store.query('SELECT * FROM experiments WHERE name = ?', [name]))[0];
    return row ? this.hydrate(row) : undefined;
  }

  /** Experiments matching every condition (name, tags, creation/update time), in `order`. */
  async search(
    conditions: readonly RunCondition[],
    view: ViewType,
    order: readonly OrderTerm[],
    page: { limit: number; offset: number },
  ): Promise<{ experiments: Experiment[]; total: number }> {
    const params: SqlValue[] = [];
    const where = [lifecycleSql('e.lifecycle_stage', view)];
    for (const c of conditions) where.push(conditionSql(c, 'experiment', params));
    const orderSql = order.map((o) => {
      const column =
        o.key === 'name' ? 'e.name' : o.key === 'creation_time' ? 'e.created_at' : 'e.updated_at';
      return `${column} ${o.descending ? 'DESC' : 'ASC'}`;
    });
    const from = `FROM experiments e WHERE ${where.join(' AND ')}`;
    const [count, rows] = await Promise.all([
      this.store.query(`SELECT COUNT(*) AS n ${from}`, params),
      this.store.query(
        `SELECT e.* ${from} ORDER BY ${[...orderSql, 'e.id ASC'].join(', ')} LIMIT ? OFFSET ?`,
        [...params, page.limit, page.offset],
      ),
    ]);
    return {
      experiments: await Promise.all(rows.map((r) => this.hydrate(r))),
      total: Number(count[0]!.n),
    };
  }

  async update(
    actor: string,
    id: string,
    change: {
      name?: string;
      lifecycleStage?: 'active' | 'deleted';
      tag?: { key: string; value: string };
      deleteTag?: string;
    },
  ): Promise<void> {
    const before = await this.require(id);
    if (id === '0' && change.lifecycleStage === 'deleted')
      throw registryError('FERRY_REGISTRY_CONFLICT', {
        what: 'experiment',
        name: 'Default',
        reason: 'the Default experiment (0) cannot be deleted',
      });
    try {
      await this.store.transaction(async (tx) => {
        if (change.name !== undefined)
          await tx.query('UPDATE experiments SET name = ?, updated_at = ? WHERE id = ?', [
            change.name,
            now(),
            Number(id),
          ]);
        if (change.lifecycleStage !== undefined)
          await tx.query('UPDATE experiments SET lifecycle_stage = ?, updated_at = ? WHERE id = ?', [
            change.lifecycleStage,
            now(),
            Number(id),
          ]);
        if (change.deleteTag !== undefined) {
          const gone = await tx.query(
            'DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ? RETURNING key',
            [Number(id), change.deleteTag],
          );
          if (gone.length === 0)
            throw registryError('FERRY_REGISTRY_NOT_FOUND', {
              what: 'tag',
              name: `${id}/${change.deleteTag}`,
            });
        }
        if (change.tag) {
          await tx.query('DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?', [
            Number(id),
            change.tag.key,
          ]);
          await tx.query('INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)', [
            Number(id),
            change.tag.key,
            change.tag.value,
          ]);
        }
        await recordAudit(tx, actor, 'experiment.update', `experiment:${id}`, { name: before.name }, change);
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw registryError('FERRY_REGISTRY_CONFLICT', {
          what: 'experiment',
          name: change.name ?? id,
          reason: 'already exists',
        });
      throw error;
    }
  }

  private async hydrate(row: Row): Promise<Experiment> {
    const tags = await this.store.query(
      'SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key',
      [Number(row.id)],
    );
    return {
      id: String(row.id),
      name: String(row.name),
      artifactLocation: row.artifact_location === null ? null : String(row.artifact_location),
      lifecycleStage: row.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
      createdAt: String(row.created_at),
      updatedAt: String(row.updated_at),
      tags: Object.fromEntries(tags.map((t) => [String(t.key), String(t.value)])),
    };
  }
}
