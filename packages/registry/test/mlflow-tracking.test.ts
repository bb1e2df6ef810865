import MLflow from 'mlflow';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RegistryServer } from '../src/index.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

// biome-ignore lint/suspicious/noExplicitAny: MLflow answers of many shapes, checked field by field
type Json = Record<string, any>;

/**
 * The MLflow tracking subset, driven by the `mlflow` npm client (2.0.7: experiments, runs, metrics)
 * with Basic auth as MLFLOW_TRACKING_USERNAME/PASSWORD send it, and by plain HTTP for the calls that
 * client lacks (get-by-name, search with filters and order_by, registry links, stages).
 */
describe.each(BACKENDS)('MLflow tracking API on $name', (spec) => {
  let backend: Backend | undefined;
  let server: RegistryServer & { url: string };
  let client: MLflow;
  let basic: string;
  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Json }> => {
    const response = await fetch(`${server.url}/api/2.0/mlflow/${path}`, {
      method,
      headers: {
        authorization: basic,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: await response.json() };
  };

  beforeAll(async () => {
    backend = await spec.open();
    if (!backend) return;
    server = await startServer(backend);
    basic = `Basic ${Buffer.from(`admin:${server.adminToken}`).toString('base64')}`;
    client = new MLflow({ endpoint: server.url, headers: { Authorization: basic } });
    // The mlflow package prints every request body it sends (lib/mlflow.js); keep the output readable.
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterAll(async () => {
    await server?.close();
    await backend?.cleanup();
  });

  it('the mlflow npm client: experiments, runs, params, metrics with history, tags, batch, update', async ({
    skip,
  }) => {
    if (!backend) skip();
    const { experiment_id } = await client.Experiments.create({ name: 'fraud-tuning' });
    expect(experiment_id).toBe('1');
    const { experiment } = await client.Experiments.get({ experiment_id });
    expect(experiment).toMatchObject({
      name: 'fraud-tuning',
      lifecycle_stage: 'active',
      artifact_location: 'mlflow-artifacts:/1',
    });
    const { experiments } = await client.Experiments.list();
    expect(experiments.map((e: Json) => e.name)).toEqual(['Default', 'fraud-tuning']);

    const start = Date.UTC(2026, 0, 2, 3, 4, 5);
    const { run } = await client.Runs.create({
      experiment_id,
      start_time: start,
      tags: [{ key: 'mlflow.runName', value: 'baseline' }],
    } as never);
    const run_id = run.info.run_id as string;
    expect(run.info).toMatchObject({
      run_name: 'baseline',
      status: 'RUNNING',
      start_time: start,
      user_id: 'admin',
    });
    await client.Runs.logParameter({ run_id, key: 'lr', value: '0.1' });
    for (const [step, loss] of [0.9, 0.5, 0.3].entries())
      await client.Runs.logMetric({ run_id, key: 'loss', value: loss, timestamp: start + step * 1000, step });
    await client.Runs.setTag({ run_id, key: 'team', value: 'risk' });
    await client.Runs.logBatch({
      run_id,
      metrics: [{ key: 'auc', value: 0.91, timestamp: start + 5000, step: 0 }],
      params: [{ key: 'depth', value: '6' }],
      tags: [{ key: 'stage', value: 'tuning' }],
    });
    await client.Runs.update({ run_id, status: 'FINISHED', end_time: start + 60_000 } as never);
    const got = (await client.Runs.get({ run_id })).run;
    expect(got.info).toMatchObject({ status: 'FINISHED', end_time: start + 60_000, experiment_id: '1' });
    expect(got.data.params).toEqual([
      { key: 'depth', value: '6' },
      { key: 'lr', value: '0.1' },
    ]);
    expect(got.data.metrics).toEqual([
      { key: 'auc', value: 0.91, timestamp: start + 5000, step: 0 },
      { key: 'loss', value: 0.3, timestamp: start + 2000, step: 2 },
    ]);
    expect(got.data.tags).toEqual(
      expect.arrayContaining([
        { key: 'team', value: 'risk' },
        { key: 'stage', value: 'tuning' },
        { key: 'mlflow.runName', value: 'baseline' },
      ]),
    );
    const history = await client.Metrics.getHistory({ run_id, metric_key: 'loss' });
    expect(history.metrics.map((m: Json) => [m.step, m.value])).toEqual([
      [0, 0.9],
      [1, 0.5],
      [2, 0.3],
    ]);
    // The same run through ferry's own runs API (what the UI's run page reads).
    const ferry = await (await fetch(`${server.url}/api/v1/runs/${run_id}`)).json();
    expect(ferry.metrics.filter((m: Json) => m.key === 'loss')).toHaveLength(3);
    // MLflow's rule: a param is logged once.
    await expect(client.Runs.logParameter({ run_id, key: 'lr', value: '0.2' })).rejects.toThrow(
      /INVALID_PARAMETER_VALUE/,
    );

    const second = (
      await client.Runs.create({ experiment_id, tags: [{ key: 'mlflow.runName', value: 'deep' }] } as never)
    ).run;
    await client.Runs.logBatch({
      run_id: second.info.run_id,
      metrics: [{ key: 'auc', value: 0.95, timestamp: start, step: 0 }],
      params: [
        { key: 'lr', value: '0.01' },
        { key: 'depth', value: '12' },
      ],
      tags: [],
    });
    const found = await client.Runs.search({
      experiment_ids: [experiment_id],
      filter: "metrics.auc > 0.9 AND params.depth = '12'",
    } as never);
    expect(found.runs.map((r: Json) => r.info.run_name)).toEqual(['deep']);
    await client.Runs.delete({ run_id: second.info.run_id });
    expect((await client.Runs.search({ experiment_ids: [experiment_id] } as never)).runs).toHaveLength(1);
    await client.Runs.restore({ run_id: second.info.run_id });
    expect((await client.Runs.search({ experiment_ids: [experiment_id] } as never)).runs).toHaveLength(2);
  });

  it('plain HTTP: get-by-name, experiment search, filter grammar, order_by, view types, errors', async ({
    skip,
  }) => {
    if (!backend) skip();
    const created = await call('POST', 'experiments/create', {
      name: 'grid',
      artifact_location: 's3://bucket/grid',
      tags: [{ key: 'owner', value: 'ana' }],
    });
    const exp = created.json.experiment_id as string;
    expect((await call('GET', 'experiments/get-by-name?experiment_name=grid')).json.experiment).toMatchObject(
      {
        experiment_id: exp,
        artifact_location: 's3://bucket/grid',
        tags: [{ key: 'owner', value: 'ana' }],
      },
    );
    expect(await call('POST', 'experiments/create', { name: 'grid' })).toMatchObject({
      status: 400,
      json: { error_code: 'RESOURCE_ALREADY_EXISTS' },
    });
    expect(await call('GET', 'experiments/get-by-name?experiment_name=none')).toEqual({
      status: 404,
      json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'experiment none does not exist' },
    });
    await call('POST', 'experiments/set-experiment-tag', { experiment_id: exp, key: 'kind', value: 'grid' });
    const names = async (method: string, body: Json) =>
      (method === 'GET'
        ? await call('GET', `experiments/search?${new URLSearchParams(body).toString()}`)
        : await call('POST', 'experiments/search', body)
      ).json.experiments?.map((e: Json) => e.name);
    expect(await names('POST', { filter: "tags.kind = 'grid'" })).toEqual(['grid']);
    await call('POST', 'experiments/set-experiment-tag', { experiment_id: exp, key: 'tmp', value: '1' });
    expect(
      (await call('POST', 'experiments/delete-experiment-tag', { experiment_id: exp, key: 'tmp' })).status,
    ).toBe(200);
    expect(
      (await call('POST', 'experiments/delete-experiment-tag', { experiment_id: exp, key: 'tmp' })).json
        .error_code,
    ).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await call('GET', `experiments/get?experiment_id=${exp}`)).json.experiment.tags).toEqual([
      { key: 'kind', value: 'grid' },
      { key: 'owner', value: 'ana' },
    ]);
    expect(await names('GET', { filter: "name LIKE 'g%'" })).toEqual(['grid']);
    expect(await names('POST', { order_by: ['name DESC'], max_results: 2 })).toEqual([
      'grid',
      'fraud-tuning',
    ]);

    const runs: string[] = [];
    for (const [i, lr] of ['0.1', '0.01', '0.001'].entries()) {
      const r = (
        await call('POST', 'runs/create', { experiment_id: exp, run_name: `r${i}`, start_time: 1_000 + i })
      ).json.run;
      runs.push(r.info.run_id);
      await call('POST', 'runs/log-batch', {
        run_id: r.info.run_id,
        metrics: [
          { key: 'acc', value: 0.5 + i / 10, timestamp: 1, step: 0 },
          { key: 'acc', value: 0.2, timestamp: 2, step: i === 2 ? -1 : 0 },
        ],
        params: [{ key: 'lr', value: lr }],
        tags: [{ key: 'grp', value: i === 0 ? 'a' : 'b' }],
      });
    }
    await call('POST', 'runs/update', { run_id: runs[0], status: 'FAILED' });
    const search = async (filter: string, extra: Json = {}) => {
      const answer = await call('POST', 'runs/search', { experiment_ids: [exp], filter, ...extra });
      if (answer.status !== 200) return answer.json;
      return answer.json.runs.map((r: Json) => r.info.run_name);
    };
    // A run's value of a metric is its latest: highest step, then newest timestamp. r0 and r1 logged
    // 0.2 last at step 0; r2 logged 0.2 at step -1, so its value is 0.7 (step 0).
    expect(await search('metrics.acc >= 0.6')).toEqual(['r2']);
    expect(await search('metrics.acc < 0.6', { order_by: ['metrics.acc DESC', 'run_name DESC'] })).toEqual([
      'r1',
      'r0',
    ]);
    expect(await search("params.lr IN ('0.1', '0.001')", { order_by: ['params.lr'] })).toEqual(['r2', 'r0']);
    expect(
      await search("tags.grp = 'b' AND attributes.status = 'RUNNING'", {
        order_by: ['attributes.start_time ASC'],
      }),
    ).toEqual(['r1', 'r2']);
    expect(await search("attributes.status != 'RUNNING'")).toEqual(['r0']);
    expect(
      await search("attributes.run_name LIKE 'r%' AND start_time > 1000", { order_by: ['run_name'] }),
    ).toEqual(['r1', 'r2']);
    expect(await search("run_name ILIKE 'R1'")).toEqual(['r1']);
    expect(await search("params.lr NOT IN ('0.1')", { order_by: ['params.lr DESC'] })).toEqual(['r1', 'r2']);
    expect(await search('metrics.missing > 0')).toEqual([]);
    const paged = await call('POST', 'runs/search', {
      experiment_ids: [exp],
      max_results: 2,
      order_by: ['run_name'],
    });
    expect(paged.json.runs.map((r: Json) => r.info.run_name)).toEqual(['r0', 'r1']);
    const rest = await call('POST', 'runs/search', {
      experiment_ids: [exp],
      max_results: 2,
      order_by: ['run_name'],
      page_token: paged.json.next_page_token,
    });
    expect(rest.json.runs.map((r: Json) => r.info.run_name)).toEqual(['r2']);
    for (const [filter, reason] of [
      ["metrics.acc > 'x'", /compares with a number/],
      ["params.lr = 'a' OR params.lr = 'b'", /OR is not supported/],
      ["bogus.x = 'a'", /unknown prefix "bogus"/],
      ['params.lr > 1', /takes =, !=, LIKE/],
    ] as const) {
      const answer = await search(filter);
      expect(answer.error_code).toBe('INVALID_PARAMETER_VALUE');
      expect(answer.message).toMatch(reason);
    }

    await call('POST', 'runs/delete', { run_id: runs[1] });
    expect(await search('', { run_view_type: 'DELETED_ONLY' })).toEqual(['r1']);
    expect(
      (await call('POST', 'runs/log-metric', { run_id: runs[1], key: 'x', value: 1 })).json.error_code,
    ).toBe('INVALID_PARAMETER_VALUE');
    expect((await call('POST', 'runs/delete-tag', { run_id: runs[0], key: 'grp' })).status).toBe(200);
    expect((await call('GET', `runs/get?run_id=${runs[0]}`)).json.run.data.tags).not.toContainEqual({
      key: 'grp',
      value: 'a',
    });
    expect(await call('GET', `runs/get?run_id=${'0'.repeat(32)}`)).toMatchObject({
      status: 404,
      json: { error_code: 'RESOURCE_DOES_NOT_EXIST' },
    });
    await call('POST', 'experiments/update', { experiment_id: exp, new_name: 'grid-2' });
    await call('POST', 'experiments/delete', { experiment_id: exp });
    expect(await names('POST', { view_type: 'DELETED_ONLY' })).toEqual(['grid-2']);
    expect((await call('POST', 'runs/create', { experiment_id: exp })).json.error_code).toBe(
      'INVALID_PARAMETER_VALUE',
    );
    await call('POST', 'experiments/restore', { experiment_id: exp });
    expect((await call('GET', `experiments/get?experiment_id=${exp}`)).json.experiment.lifecycle_stage).toBe(
      'active',
    );
    expect((await call('GET', 'artifacts/list')).json).toEqual({
      error_code: 'ENDPOINT_NOT_FOUND',
      message:
        "GET /api/2.0/mlflow/artifacts/list is not part of ferry's MLflow subset (ferry stores no run artifacts; models are versions)",
    });
  });

  it('registry links: create-model-version with run_id records lineage; stages are aliases; GET latest; order_by', async ({
    skip,
  }) => {
    if (!backend) skip();
    const run = (await call('POST', 'runs/create', { experiment_id: '0', run_name: 'train' })).json.run;
    await call('POST', 'runs/log-metric', {
      run_id: run.info.run_id,
      key: 'loss',
      value: 0.4,
      step: 1,
      timestamp: 5,
    });
    // A run started through ferry's own API is in the Default experiment (0) too.
    const native = await fetch(`${server.url}/api/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'native', params: { lr: '1' } }),
    });
    const inDefault = await call('POST', 'runs/search', { experiment_ids: ['0'], order_by: ['run_name'] });
    expect(inDefault.json.runs.map((r: Json) => r.info.run_name)).toEqual(['native', 'train']);
    expect(inDefault.json.runs[0].info.run_id).toBe((await native.json()).id);
    await call('POST', 'registered-models/create', { name: 'churn' });
    const v1 = await call('POST', 'model-versions/create', {
      name: 'churn',
      source: `${run.info.artifact_uri}/model`,
      run_id: run.info.run_id,
    });
    expect(v1.json.model_version).toMatchObject({
      version: '1',
      run_id: run.info.run_id,
      current_stage: 'None',
    });
    await call('POST', 'model-versions/create', { name: 'churn', source: 's3://b/2' });
    const lineage = await (await fetch(`${server.url}/api/v1/lineage?node=run:${run.info.run_id}`)).json();
    expect(lineage.downstream.edges).toEqual([
      expect.objectContaining({ src: `run:${run.info.run_id}`, dst: 'models:/churn/1', relation: 'output' }),
    ]);

    const moved = await call('POST', 'model-versions/transition-stage', {
      name: 'churn',
      version: '1',
      stage: 'Production',
    });
    expect(moved.json.model_version).toMatchObject({ current_stage: 'Production', aliases: ['production'] });
    await call('POST', 'model-versions/transition-stage', { name: 'churn', version: '2', stage: 'staging' });
    const latest = await call(
      'GET',
      'registered-models/get-latest-versions?name=churn&stages=Production&stages=Staging',
    );
    expect(latest.json.model_versions.map((v: Json) => [v.version, v.current_stage])).toEqual([
      ['1', 'Production'],
      ['2', 'Staging'],
    ]);
    expect(
      (
        await call('POST', 'registered-models/get-latest-versions', { name: 'churn' })
      ).json.model_versions.map((v: Json) => v.version),
    ).toEqual(['2', '1']);
    await call('POST', 'model-versions/transition-stage', { name: 'churn', version: '1', stage: 'Archived' });
    expect(
      (await call('GET', 'model-versions/get?name=churn&version=1')).json.model_version.current_stage,
    ).toBe('None');
    expect(
      (await call('POST', 'model-versions/transition-stage', { name: 'churn', version: '1', stage: 'Prod' }))
        .json.message,
    ).toMatch(/one of None, Staging, Production, Archived/);

    const versions = await call(
      'GET',
      'model-versions/search?filter=name%3D%27churn%27&order_by=version_number%20ASC',
    );
    expect(versions.json.model_versions.map((v: Json) => v.version)).toEqual(['1', '2']);
    await call('POST', 'registered-models/create', { name: 'alpha' });
    const models = await call('POST', 'registered-models/search', { order_by: ['name DESC'] });
    expect(models.json.registered_models.map((m: Json) => m.name)).toEqual(['churn', 'alpha']);
    expect((await call('POST', 'registered-models/search', { order_by: ['bogus'] })).json.error_code).toBe(
      'INVALID_PARAMETER_VALUE',
    );
  });

  it('Basic auth: a wrong password is UNAUTHENTICATED in MLflow shape; no password is anonymous', async ({
    skip,
  }) => {
    if (!backend) skip();
    const wrong = await fetch(`${server.url}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`admin:ferry_${'B'.repeat(43)}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: '{"name":"x"}',
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({
      error_code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/unknown or revoked/),
    });
    const anonymous = await fetch(`${server.url}/api/2.0/mlflow/runs/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect((await anonymous.json()).error_code).toBe('UNAUTHENTICATED');
  });
});
