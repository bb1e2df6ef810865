import type { FastifyInstance, FastifyRequest } from 'fastify';
import { registryError } from '../../errors.js';
import { MAX_TEXT_LENGTH } from '../../limits.js';
import { checkLabel } from '@ferry/registry-client';
import type { ViewType } from '../../store/experiment-store.js';
import type { RunRecord } from '../../store/run-store.js';
import type { RunStatus } from '../../store/types.js';
import { requireScope } from '../access.js';
import { allowsAny, type Principal } from '../auth.js';
import type { ApiContext } from '../context.js';
import { list, page, param } from './request.js';
import { artifactLocation, mlflowExperiment, mlflowMetric, mlflowRun, mlflowRunInfo } from './run-shapes.js';
import { parseOrderBy, parseSearchFilter } from './search-filter.js';

/** log-batch limits, MLflow's own (mlflow/utils/validation.py MAX_METRICS_PER_BATCH etc.). */
export const MAX_BATCH_METRICS = 1000;
export const MAX_BATCH_PARAMS = 100;
export const MAX_BATCH_TAGS = 100;
/** Experiments named in one runs/search. */
export const MAX_SEARCH_EXPERIMENTS = 100;
// Param and tag values: ferry's MAX_TEXT_LENGTH, as for runs logged through ferry's own API
// (MLflow's own server allows 6000 and 8000 characters).
const MAX_PARAM_VALUE = MAX_TEXT_LENGTH;
const MAX_TAG_VALUE = MAX_TEXT_LENGTH;

const STATUS: Record<string, RunStatus> = {
  RUNNING: 'running',
  SCHEDULED: 'running',
  FINISHED: 'finished',
  FAILED: 'failed',
  KILLED: 'killed',
};

const bad = (what: string, reason: string) => registryError('FERRY_REGISTRY_BAD_REQUEST', { what, reason });

function requireWriter(principal: Principal): void {
  if (!allowsAny(principal, 'write')) requireScope(principal, 'write', null);
}

/** Epoch milliseconds (an MLflow int64, sent as a number or a string) to ferry's ISO time. */
function time(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > 8.64e15) throw bad(what, 'must be epoch milliseconds');
  return new Date(n).toISOString();
}

function viewType(request: FastifyRequest, key: string): ViewType {
  const v = (param(request, key, false) ?? 'ACTIVE_ONLY').toUpperCase();
  if (v !== 'ACTIVE_ONLY' && v !== 'DELETED_ONLY' && v !== 'ALL')
    throw bad(key, 'ACTIVE_ONLY, DELETED_ONLY or ALL');
  return v;
}

function metricOf(m: unknown, what: string): { key: string; value: number; step: number; time?: string } {
  const o = (m ?? {}) as Record<string, unknown>;
  if (typeof o.key !== 'string' || o.key === '') throw bad(`${what}.key`, 'a metric needs a key');
  // JSON has no NaN or Infinity; MLflow's clients send them as strings.
  const value = typeof o.value === 'string' && /^-?(NaN|Infinity)$/.test(o.value) ? Number(o.value) : o.value;
  if (typeof value !== 'number') throw bad(`${what}.value`, 'a metric value is a number');
  const step = o.step === undefined || o.step === null ? 0 : Number(o.step);
  if (!Number.isSafeInteger(step)) throw bad(`${what}.step`, 'an integer');
  const at = time(o.timestamp, `${what}.timestamp`);
  return { key: checkLabel('metric key', o.key), value, step, ...(at && { time: at }) };
}

function pairsOf(list: unknown, what: string, max: number, maxValue: number): Record<string, string> {
  if (list === undefined || list === null) return {};
  if (!Array.isArray(list) || list.length > max) throw bad(what, `a list of up to ${max} {key, value}`);
  const out: Record<string, string> = {};
  for (const item of list as { key?: unknown; value?: unknown }[]) {
    if (typeof item?.key !== 'string') throw bad(what, 'each entry is {key: string, value: string}');
    const value = item.value === undefined || item.value === null ? '' : String(item.value);
    if (value.length > maxValue) throw bad(`${what} ${item.key}`, `value longer than ${maxValue} characters`);
    out[checkLabel(`${what} key`, item.key)] = value;
  }
  return out;
}

/**
 * The MLflow tracking subset (mlflow/protos/service.proto) on ferry's runs: experiments, runs,
 * params, tags, metrics with their history, log-batch and search with MLflow's filter grammar.
 * Reads are open as ferry's runs API is; writes need write access on something.
 */
export function trackingRoutes(app: FastifyInstance, { db }: ApiContext): void {
  const hide = { schema: { tags: ['mlflow'] } };
  const runId = (request: FastifyRequest) =>
    param(request, 'run_id', false) ?? (param(request, 'run_uuid', false) || param(request, 'run_id'))!;
  const runOf = async (request: FastifyRequest): Promise<RunRecord> => {
    const id = runId(request);
    const run = /^[0-9a-f]{32}$/.test(id) ? await db.runs.get(id) : undefined;
    if (!run) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'run', name: id });
    return run;
  };
  const artifactRoot = async (experimentId: string) =>
    artifactLocation(
      (await db.experiments.get(experimentId)) ?? { id: experimentId, artifactLocation: null },
    );
  const runOut = async (run: RunRecord) => mlflowRun(run, await artifactRoot(run.experimentId));
  const writableRun = async (request: FastifyRequest) => {
    requireWriter(request.principal);
    const run = await runOf(request);
    if (run.lifecycleStage === 'deleted')
      throw registryError('FERRY_REGISTRY_CONFLICT', {
        what: 'run',
        name: run.id,
        reason: 'is deleted; restore it first',
      });
    return run;
  };

  // --- experiments ---
  app.post('/experiments/create', hide, async (request) => {
    requireWriter(request.principal);
    const name = param(request, 'name')!;
    const location = param(request, 'artifact_location', false);
    const tags = pairsOf((request.body as { tags?: unknown })?.tags, 'tags', MAX_BATCH_TAGS, MAX_TAG_VALUE);
    const id = await db.experiments.create(request.principal.user, {
      name,
      tags,
      ...(location && { artifactLocation: location }),
    });
    return { experiment_id: id };
  });

  app.get('/experiments/get', hide, async (request) => ({
    experiment: mlflowExperiment(await db.experiments.require(param(request, 'experiment_id')!)),
  }));

  app.get('/experiments/get-by-name', hide, async (request) => {
    const name = param(request, 'experiment_name')!;
    const experiment = await db.experiments.getByName(name);
    if (!experiment) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'experiment', name });
    return { experiment: mlflowExperiment(experiment) };
  });

  const searchExperiments = async (request: FastifyRequest, viewKey: string) => {
    const paging = page(request, 1000);
    const conditions = parseSearchFilter(param(request, 'filter', false));
    const order = parseOrderBy(list(request, 'order_by', 10));
    for (const o of order)
      if (o.entity !== 'attribute' || !['name', 'creation_time', 'last_update_time'].includes(o.key))
        throw bad('order_by', 'experiments order by name, creation_time or last_update_time');
    const { experiments, total } = await db.experiments.search(
      conditions,
      viewType(request, viewKey),
      order,
      paging,
    );
    const next = paging.next(total);
    return { experiments: experiments.map(mlflowExperiment), ...(next && { next_page_token: next }) };
  };
  app.post('/experiments/search', hide, (request) => searchExperiments(request, 'view_type'));
  app.get('/experiments/search', hide, (request) => searchExperiments(request, 'view_type'));
  // Removed in MLflow 2.0 (replaced by search); older clients, the `mlflow` npm package among them, still call it.
  app.get('/experiments/list', hide, (request) => searchExperiments(request, 'view_type'));

  const experimentChange = (
    route: string,
    change: (request: FastifyRequest) => Parameters<typeof db.experiments.update>[2],
  ) =>
    app.post(route, hide, async (request) => {
      requireWriter(request.principal);
      await db.experiments.update(request.principal.user, param(request, 'experiment_id')!, change(request));
      return {};
    });
  experimentChange('/experiments/update', (request) => ({ name: param(request, 'new_name')! }));
  experimentChange('/experiments/delete', () => ({ lifecycleStage: 'deleted' }));
  experimentChange('/experiments/restore', () => ({ lifecycleStage: 'active' }));
  experimentChange('/experiments/delete-experiment-tag', (request) => ({
    deleteTag: checkLabel('tag key', param(request, 'key')!),
  }));
  experimentChange('/experiments/set-experiment-tag', (request) => ({
    tag: { key: checkLabel('tag key', param(request, 'key')!), value: param(request, 'value', false) ?? '' },
  }));

  // --- runs ---
  app.post('/runs/create', hide, async (request) => {
    requireWriter(request.principal);
    const experimentId = param(request, 'experiment_id', false) ?? '0';
    const experiment = await db.experiments.require(experimentId);
    if (experiment.lifecycleStage === 'deleted')
      throw registryError('FERRY_REGISTRY_CONFLICT', {
        what: 'experiment',
        name: experimentId,
        reason: 'is deleted',
      });
    const tags = pairsOf((request.body as { tags?: unknown })?.tags, 'tags', MAX_BATCH_TAGS, MAX_TAG_VALUE);
    // The client's user_id is ignored: the token says who logs the run.
    const startTime = time(param(request, 'start_time', false), 'start_time');
    const run = await db.createRun(request.principal.user, {
      name: param(request, 'run_name', false) ?? tags['mlflow.runName'],
      tags,
      experimentId,
      ...(startTime && { startTime }),
    });
    return { run: await runOut(run) };
  });

  app.get('/runs/get', hide, async (request) => ({ run: await runOut(await runOf(request)) }));

  app.post('/runs/update', hide, async (request) => {
    const run = await writableRun(request);
    const statusText = param(request, 'status', false);
    const status = statusText === undefined ? undefined : STATUS[statusText.toUpperCase()];
    if (statusText !== undefined && !status)
      throw bad('status', 'RUNNING, SCHEDULED, FINISHED, FAILED or KILLED');
    const endTime = time(param(request, 'end_time', false), 'end_time');
    const name = param(request, 'run_name', false);
    const updated = await db.runs.log(request.principal.user, run.id, {
      ...(status && { status }),
      ...(endTime && { endTime }),
      ...(name !== undefined && { name }),
    });
    return { run_info: mlflowRunInfo(updated, await artifactRoot(updated.experimentId)) };
  });

  for (const [route, stage] of [
    ['/runs/delete', 'deleted'],
    ['/runs/restore', 'active'],
  ] as const)
    app.post(route, hide, async (request) => {
      requireWriter(request.principal);
      await db.runs.setLifecycle(request.principal.user, (await runOf(request)).id, stage);
      return {};
    });

  app.post('/runs/log-metric', hide, async (request) => {
    const run = await writableRun(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    await db.runs.log(request.principal.user, run.id, { metrics: [metricOf(body, 'metric')] });
    return {};
  });

  app.post('/runs/log-parameter', hide, async (request) => {
    const run = await writableRun(request);
    const params = pairsOf(
      [{ key: param(request, 'key'), value: param(request, 'value', false) ?? '' }],
      'param',
      1,
      MAX_PARAM_VALUE,
    );
    await db.runs.log(request.principal.user, run.id, { params });
    return {};
  });

  app.post('/runs/set-tag', hide, async (request) => {
    const run = await writableRun(request);
    const tags = pairsOf(
      [{ key: param(request, 'key'), value: param(request, 'value', false) ?? '' }],
      'tag',
      1,
      MAX_TAG_VALUE,
    );
    // mlflow.runName is the run's name in MLflow's clients (set_tag renames a run).
    await db.runs.log(request.principal.user, run.id, {
      tags,
      ...(tags['mlflow.runName'] !== undefined && { name: tags['mlflow.runName'] }),
    });
    return {};
  });

  app.post('/runs/delete-tag', hide, async (request) => {
    const run = await writableRun(request);
    const key = checkLabel('tag key', param(request, 'key')!);
    if (run.tags[key] === undefined)
      throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'tag', name: `${run.id}/${key}` });
    await db.runs.log(request.principal.user, run.id, { deleteTag: key });
    return {};
  });

  app.post('/runs/log-batch', hide, async (request) => {
    const run = await writableRun(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const metrics = body.metrics ?? [];
    if (!Array.isArray(metrics) || metrics.length > MAX_BATCH_METRICS)
      throw bad('metrics', `a list of up to ${MAX_BATCH_METRICS} metrics`);
    // One transaction: a batch is logged whole or not at all.
    await db.runs.log(request.principal.user, run.id, {
      metrics: metrics.map((m, i) => metricOf(m, `metrics[${i}]`)),
      params: pairsOf(body.params, 'params', MAX_BATCH_PARAMS, MAX_PARAM_VALUE),
      tags: pairsOf(body.tags, 'tags', MAX_BATCH_TAGS, MAX_TAG_VALUE),
    });
    return {};
  });

  app.post('/runs/search', hide, async (request) => {
    const paging = page(request, 1000);
    const experimentIds = list(request, 'experiment_ids', MAX_SEARCH_EXPERIMENTS);
    if (experimentIds.length === 0) throw bad('experiment_ids', 'name at least one experiment');
    const { runs, total } = await db.runs.search(
      experimentIds,
      parseSearchFilter(param(request, 'filter', false)),
      viewType(request, 'run_view_type'),
      parseOrderBy(list(request, 'order_by', 10)),
      paging,
    );
    const next = paging.next(total);
    return { runs: await Promise.all(runs.map(runOut)), ...(next && { next_page_token: next }) };
  });

  app.get('/metrics/get-history', hide, async (request) => {
    const run = await runOf(request);
    const paging = page(request, 1000);
    const history = await db.runs.history(run.id, param(request, 'metric_key')!);
    const next = paging.next(history.length);
    return {
      metrics: history.slice(paging.offset, paging.offset + paging.limit).map(mlflowMetric),
      ...(next && { next_page_token: next }),
    };
  });
}
