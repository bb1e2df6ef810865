import { registryError } from '../errors.js';
import type { SqlValue } from './metadata-store.js';

/** A comparison of MLflow's tracking search grammar (mlflow/utils/search_utils.py SearchUtils). */
export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

/**
 * One condition: `metrics.KEY` (the run's latest value of that metric: highest step, then newest, then largest),
 * `params.KEY`, `tags.KEY`, or an attribute (runs: run_id, run_name, status, user_id, start_time,
 * end_time; experiments: name, creation_time, last_update_time). Times are epoch milliseconds.
 */
export interface RunCondition {
  readonly entity: 'metric' | 'param' | 'tag' | 'attribute';
  readonly key: string;
  readonly op: CompareOp;
  readonly value: string | number | readonly string[];
}

export interface OrderTerm {
  readonly entity: RunCondition['entity'];
  readonly key: string;
  readonly descending: boolean;
}

/** Ferry's run states under MLflow's names (SCHEDULED runs are running ones). */
export const RUN_STATUS_TO_MLFLOW = {
  running: 'RUNNING',
  finished: 'FINISHED',
  failed: 'FAILED',
  killed: 'KILLED',
} as const;

const RUN_ATTRIBUTES: Record<string, string> = {
  run_id: 'r.id',
  run_name: 'r.name',
  status: 'r.status',
  user_id: 'r.created_by',
  start_time: 'r.start_time',
  end_time: 'r.end_time',
};
const EXPERIMENT_ATTRIBUTES: Record<string, string> = {
  name: 'e.name',
  creation_time: 'e.created_at',
  last_update_time: 'e.updated_at',
};
const TIMES = new Set(['start_time', 'end_time', 'creation_time', 'last_update_time']);

/** The SQL expression a condition or an order term compares: a column or a correlated subquery. */
export function operandSql(
  c: Pick<RunCondition, 'entity' | 'key'>,
  target: 'run' | 'experiment',
  params: SqlValue[],
): string {
  if (c.entity === 'attribute') {
    const column = (target === 'run' ? RUN_ATTRIBUTES : EXPERIMENT_ATTRIBUTES)[c.key];
    if (!column)
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: `attribute ${c.key}`,
        reason: `searchable attributes are ${Object.keys(target === 'run' ? RUN_ATTRIBUTES : EXPERIMENT_ATTRIBUTES).join(', ')}`,
      });
    return column;
  }
  params.push(c.key);
  if (target === 'experiment') {
    if (c.entity !== 'tag')
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: `${c.entity}s.${c.key}`,
        reason: 'experiments are searched by name, tags and times',
      });
    return '(SELECT t.value FROM experiment_tags t WHERE t.experiment_id = e.id AND t.key = ?)';
  }
  if (c.entity === 'metric')
    return '(SELECT m.value FROM run_metrics m WHERE m.run_id = r.id AND m.key = ? ORDER BY m.step DESC, m.time DESC, m.value DESC LIMIT 1)';
  const table = c.entity === 'param' ? 'run_params' : 'run_tags';
  return `(SELECT p.value FROM ${table} p WHERE p.run_id = r.id AND p.key = ?)`;
}

/** A WHERE term for one condition; a run without the metric, param or tag never matches (as in MLflow). */
export function conditionSql(c: RunCondition, target: 'run' | 'experiment', params: SqlValue[]): string {
  const operand = operandSql(c, target, params);
  const value = (v: string | number): SqlValue => {
    if (c.entity === 'attribute' && TIMES.has(c.key)) return new Date(Number(v)).toISOString();
    if (c.entity === 'attribute' && c.key === 'status') {
      const status = Object.entries(RUN_STATUS_TO_MLFLOW).find(([, m]) => m === String(v).toUpperCase());
      // SCHEDULED is a running run; an unknown status matches nothing, as MLflow's does.
      return String(v).toUpperCase() === 'SCHEDULED' ? 'running' : (status?.[0] ?? String(v));
    }
    return v;
  };
  if (c.op === 'IN' || c.op === 'NOT IN') {
    const list = c.value as readonly string[];
    params.push(...list.map(value));
    return `${operand} ${c.op} (${list.map(() => '?').join(', ')})`;
  }
  params.push(value(c.value as string | number));
  if (c.op === 'ILIKE') return `LOWER(${operand}) LIKE LOWER(?)`;
  return `${operand} ${c.op === '!=' ? '<>' : c.op} ?`;
}

/** An ORDER BY term; runs without the key sort last either way (MLflow's rule). */
export function orderSql(o: OrderTerm, target: 'run' | 'experiment', params: SqlValue[]): string {
  // The operand appears twice (the NULL test, then the value), each with its own parameter.
  const isNull = operandSql(o, target, params);
  const operand = operandSql(o, target, params);
  return `(${isNull} IS NULL) ASC, ${operand} ${o.descending ? 'DESC' : 'ASC'}`;
}
