import { registryError } from '../errors.js';
import { recordAudit } from './audit-store.js';
import { lifecycleSql, type ViewType } from './experiment-store.js';
import type { MetadataStore, Queryable, Row, SqlValue } from './metadata-store.js';
import { conditionSql, type OrderTerm, orderSql, type RunCondition } from './run-search.js';
import { now, str } from './sql-values.js';
import type { Metric, Run, RunStatus } from './types.js';

/** Metric rows per INSERT statement (5 parameters each: well under both databases' limits). */
const METRIC_ROWS_PER_INSERT = 200;

/** A run as the store keeps it: the wire Run, and the experiment and life cycle MLflow adds. */
export interface RunRecord extends Run {
  readonly experimentId: string;
  readonly lifecycleStage: 'active' | 'deleted';
}

export interface NewRun {
  readonly name?: string;
  readonly params?: Record<string, string>;
  readonly tags?: Record<string, string>;
  /** Datasets the run read: lineage edges `dataset:ID -> run:ID` (written by the facade). */
  readonly inputs?: { name: string; digest: string; source?: string }[];
  /** The MLflow experiment (default 0, "Default"). */
  readonly experimentId?: string;
  /** When the run started, if not now (MLflow clients send start_time). */
  readonly startTime?: string;
}

/** A run as lists show it: no params, tags or metrics. */
export type RunSummary = Omit<Run, 'params' | 'tags' | 'metrics'>;

/** Training runs with their params, tags and metrics (`runs`, `run_params`, `run_tags`, `run_metrics`). */
export class RunStore {
  constructor(private readonly store: MetadataStore) {}

  async log(
    actor: string,
    id: string,
    input: {
      params?: Record<string, string>;
      tags?: Record<string, string>;
      metrics?: { key: string; value: number; step?: number; time?: string }[];
      status?: RunStatus;
      /** When the run ended (MLflow's runs/update end_time); now when a final status is set without it. */
      endTime?: string;
      name?: string;
      deleteTag?: string;
    },
  ): Promise<RunRecord> {
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
      // A metric without a step gets the next one of its key (ferry's API); the rows go in a few
      // multi-row INSERTs, not one statement each (a 1000-metric MLflow log-batch is 5 statements).
      const nextStep = new Map<string, number>();
      const rows: SqlValue[][] = [];
      for (const m of input.metrics ?? []) {
        let step = m.step;
        if (step === undefined) {
          step =
            nextStep.get(m.key) ??
            Number(
              (
                await tx.query('SELECT COUNT(*) AS n FROM run_metrics WHERE run_id = ? AND key = ?', [
                  id,
                  m.key,
                ])
              )[0]!.n,
            );
          nextStep.set(m.key, step + 1);
        }
        rows.push([id, m.key, m.value, step, m.time ?? now()]);
      }
      for (let at = 0; at < rows.length; at += METRIC_ROWS_PER_INSERT) {
        const chunk = rows.slice(at, at + METRIC_ROWS_PER_INSERT);
        await tx.query(
          `INSERT INTO run_metrics (run_id, key, value, step, time) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
          chunk.flat(),
        );
      }
      if (input.deleteTag !== undefined)
        await tx.query('DELETE FROM run_tags WHERE run_id = ? AND key = ?', [id, input.deleteTag]);
      if (input.name !== undefined) await tx.query('UPDATE runs SET name = ? WHERE id = ?', [input.name, id]);
      if (input.status && input.status !== run.status)
        await tx.query('UPDATE runs SET status = ?, end_time = ? WHERE id = ?', [
          input.status,
          input.status === 'running' ? null : (input.endTime ?? now()),
          id,
        ]);
      else if (input.endTime !== undefined)
        await tx.query('UPDATE runs SET end_time = ? WHERE id = ?', [input.endTime, id]);
      await recordAudit(tx, actor, 'run.log', `run:${id}`, { status: run.status }, input);
    });
    return (await this.get(id))!;
  }

  /** Marks a run deleted or active again (MLflow's runs/delete and runs/restore keep the data). */
  async setLifecycle(actor: string, id: string, stage: 'active' | 'deleted'): Promise<void> {
    await this.store.transaction(async (tx) => {
      const rows = await tx.query('UPDATE runs SET lifecycle_stage = ? WHERE id = ? RETURNING id', [
        stage,
        id,
      ]);
      if (rows.length === 0) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'run', name: id });
      await recordAudit(tx, actor, stage === 'deleted' ? 'run.delete' : 'run.restore', `run:${id}`, null, {
        lifecycleStage: stage,
      });
    });
  }

  /** A metric's every logged value, oldest step first (MLflow's metrics/get-history). */
  async history(id: string, key: string): Promise<Metric[]> {
    const rows = await this.store.query(
      'SELECT key, value, step, time FROM run_metrics WHERE run_id = ? AND key = ? ORDER BY step, time',
      [id, key],
    );
    return rows.map((m) => ({
      key: String(m.key),
      value: Number(m.value),
      step: Number(m.step),
      time: String(m.time),
    }));
  }

  /** Runs of the experiments matching every condition, in `order` (default: newest start first). */
  async search(
    experimentIds: readonly string[],
    conditions: readonly RunCondition[],
    view: ViewType,
    order: readonly OrderTerm[],
    page: { limit: number; offset: number },
  ): Promise<{ runs: RunRecord[]; total: number }> {
    const params: SqlValue[] = experimentIds.map(Number);
    const where = [
      `r.experiment_id IN (${experimentIds.map(() => '?').join(', ')})`,
      lifecycleSql('r.lifecycle_stage', view),
    ];
    for (const c of conditions) where.push(conditionSql(c, 'run', params));
    const orderParams: SqlValue[] = [];
    const orderBy = [...order.map((o) => orderSql(o, 'run', orderParams)), 'r.start_time DESC', 'r.id ASC'];
    const from = `FROM runs r WHERE ${where.join(' AND ')}`;
    const [count, rows] = await Promise.all([
      this.store.query(`SELECT COUNT(*) AS n ${from}`, params),
      this.store.query(`SELECT r.id ${from} ORDER BY ${orderBy.join(', ')} LIMIT ? OFFSET ?`, [
        ...params,
        ...orderParams,
        page.limit,
        page.offset,
      ]),
    ]);
    return {
      runs: await this.getMany(
        rows.map((r) => String(r.id)),
        'latest',
      ),
      total: Number(count[0]!.n),
    };
  }

  /** A run's name alone (lineage labels its nodes with it), without reading its metrics. */
  async nameOf(id: string): Promise<string | undefined> {
    const row = (await this.store.query('SELECT name FROM runs WHERE id = ?', [id]))[0];
    return row ? String(row.name) : undefined;
  }

  /** A page of runs, newest first, without params and metrics (GET /api/v1/runs); deleted runs (MLflow's runs/delete) are left out. */
  async list(page: { limit: number; offset: number }): Promise<{ runs: RunSummary[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.store.query(
        "SELECT * FROM runs WHERE lifecycle_stage <> 'deleted' ORDER BY start_time DESC, id LIMIT ? OFFSET ?",
        [page.limit, page.offset],
      ),
      this.store.query("SELECT COUNT(*) AS n FROM runs WHERE lifecycle_stage <> 'deleted'", []),
    ]);
    return {
      runs: rows.map((run) => ({
        id: String(run.id),
        name: String(run.name),
        status: run.status as RunStatus,
        startTime: String(run.start_time),
        endTime: str(run.end_time),
        createdBy: String(run.created_by),
      })),
      total: Number(count[0]!.n),
    };
  }

  async get(id: string): Promise<RunRecord | undefined> {
    return (await this.getMany([id]))[0];
  }

  /**
   * Runs by id, in the order given (missing ones left out), in four queries whatever their number.
   * `latest` loads only each metric's latest value (highest step, then newest), what a search page
   * shows, instead of every logged point.
   */
  async getMany(ids: readonly string[], metrics: 'all' | 'latest' = 'all'): Promise<RunRecord[]> {
    if (ids.length === 0) return [];
    const list = ids.map(() => '?').join(', ');
    const latest =
      metrics === 'latest'
        ? ' AND NOT EXISTS (SELECT 1 FROM run_metrics n WHERE n.run_id = m.run_id AND n.key = m.key AND (n.step > m.step OR (n.step = m.step AND n.time > m.time)))'
        : '';
    const [runs, params, tags, points] = await Promise.all([
      this.store.query(`SELECT * FROM runs WHERE id IN (${list})`, ids),
      this.store.query(
        `SELECT run_id, key, value FROM run_params WHERE run_id IN (${list}) ORDER BY key`,
        ids,
      ),
      this.store.query(`SELECT run_id, key, value FROM run_tags WHERE run_id IN (${list}) ORDER BY key`, ids),
      this.store.query(
        `SELECT m.run_id, m.key, m.value, m.step, m.time FROM run_metrics m WHERE m.run_id IN (${list})${latest} ORDER BY m.key, m.step, m.time`,
        ids,
      ),
    ]);
    const byRun = <T>(rows: Row[], map: (r: Row) => T) => {
      const out = new Map<string, T[]>();
      for (const r of rows) {
        const key = String(r.run_id);
        const bucket = out.get(key) ?? [];
        bucket.push(map(r));
        out.set(key, bucket);
      }
      return out;
    };
    const pairs = (r: Row) => [String(r.key), String(r.value)] as const;
    const paramsOf = byRun(params, pairs);
    const tagsOf = byRun(tags, pairs);
    const metricsOf = byRun(
      points,
      (m): Metric => ({
        key: String(m.key),
        value: Number(m.value),
        step: Number(m.step),
        time: String(m.time),
      }),
    );
    const rows = new Map(runs.map((r) => [String(r.id), r]));
    return ids.flatMap((id) => {
      const run = rows.get(id);
      if (!run) return [];
      return [
        {
          id,
          name: String(run.name),
          status: run.status as RunStatus,
          startTime: String(run.start_time),
          endTime: str(run.end_time),
          createdBy: String(run.created_by),
          experimentId: String(run.experiment_id ?? 0),
          lifecycleStage: run.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
          params: Object.fromEntries(paramsOf.get(id) ?? []),
          tags: Object.fromEntries(tagsOf.get(id) ?? []),
          metrics: metricsOf.get(id) ?? [],
        } satisfies RunRecord,
      ];
    });
  }

  // --- a step of the facade's transaction that spans table groups (registry-db.ts) ---

  /** Inserts a running run with its params and tags inside `tx`. */
  async insertIn(tx: Queryable, actor: string, id: string, input: NewRun): Promise<void> {
    await tx.query(
      'INSERT INTO runs (id, name, status, start_time, created_by, experiment_id) VALUES (?, ?, ?, ?, ?, ?)',
      [
        id,
        input.name ?? id.slice(0, 8),
        'running',
        input.startTime ?? now(),
        actor,
        Number(input.experimentId ?? 0),
      ],
    );
    for (const [key, value] of Object.entries(input.params ?? {}))
      await tx.query('INSERT INTO run_params (run_id, key, value) VALUES (?, ?, ?)', [id, key, value]);
    for (const [key, value] of Object.entries(input.tags ?? {}))
      await tx.query('INSERT INTO run_tags (run_id, key, value) VALUES (?, ?, ?)', [id, key, value]);
  }
}
