import { registryError } from '../errors.js';
import { recordAudit } from './audit-store.js';
import type { MetadataStore, Queryable } from './metadata-store.js';
import { now, str } from './sql-values.js';
import type { Metric, Run, RunStatus } from './types.js';

export interface NewRun {
  readonly name?: string;
  readonly params?: Record<string, string>;
  readonly tags?: Record<string, string>;
  /** Datasets the run read: lineage edges `dataset:ID -> run:ID` (written by the facade). */
  readonly inputs?: { name: string; digest: string; source?: string }[];
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
      await recordAudit(tx, actor, 'run.log', `run:${id}`, { status: run.status }, input);
    });
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Run | undefined> {
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

  /** A run's name alone (lineage labels its nodes with it), without reading its metrics. */
  async nameOf(id: string): Promise<string | undefined> {
    const row = (await this.store.query('SELECT name FROM runs WHERE id = ?', [id]))[0];
    return row ? String(row.name) : undefined;
  }

  /** A page of runs, newest first, without params and metrics (GET /api/v1/runs). */
  async list(page: { limit: number; offset: number }): Promise<{ runs: RunSummary[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.store.query('SELECT * FROM runs ORDER BY start_time DESC, id LIMIT ? OFFSET ?', [
        page.limit,
        page.offset,
      ]),
      this.store.query('SELECT COUNT(*) AS n FROM runs', []),
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

  // --- a step of the facade's transaction that spans table groups (registry-db.ts) ---

  /** Inserts a running run with its params and tags inside `tx`. */
  async insertIn(tx: Queryable, actor: string, id: string, input: NewRun): Promise<void> {
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
  }
}
