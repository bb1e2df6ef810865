import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/index.js';
import {
  FIXTURES,
  getJson,
  makeRepo,
  postJson,
  startTestServer,
  type TestServer,
} from './test-server.helper.js';

const x = { inputs: [{ name: 'x', shape: [1, 8], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8] }] };
const TOKEN = 'test-token-0123456789';

/** The error a server start on `root` fails with. */
const startFailure = (root: string) =>
  startServer({ path: root, httpPort: 0, grpcPort: 0, logger: pino({ level: 'silent' }) }).then(
    () => new Error('started'),
    (error: Error) => error,
  );

describe('startup', () => {
  it('refuses a repository whose config.yaml is invalid, naming the file and field', async () => {
    const repo = makeRepo({ mlp: 'max_batch_size: 8\ndynamic_batching:\n  max_queue_delay_us: soon\n' });
    try {
      const error = await startFailure(repo.root);
      expect((error as { code: string }).code).toBe('FERRY_SERVE_CONFIG');
      expect((error as Error).message).toBe(
        `${join(repo.root, 'mlp', 'config.yaml')}: dynamic_batching.max_queue_delay_us: must be an integer from 0 to 60000000 (got "soon")`,
      );
    } finally {
      repo.cleanup();
    }
  });

  it('refuses max_batch_size on a model with no batch dimension', async () => {
    const repo = makeRepo({ fixed: 'max_batch_size: 4\n' });
    try {
      const error = await startFailure(repo.root);
      expect((error as Error).message).toMatch(
        /config.yaml: max_batch_size: is 4 but m has shape \[2, 3\] with no variable first dimension to batch along \(use 0\)/,
      );
    } finally {
      repo.cleanup();
    }
  });

  it('applies input/output overrides from config.yaml and refuses contradictions', async () => {
    const repo = makeRepo({
      seq: 'inputs:\n  - name: x\n    datatype: FP32\n    shape: [3]\noutputs:\n  - name: y\n    shape: [3]\n',
    });
    const t = await startTestServer(repo.root);
    try {
      const meta = await getJson(`${t.url}/v2/models/seq`);
      expect(meta.json).toMatchObject({
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 3] }],
      });
      const long = await postJson(`${t.url}/v2/models/seq/infer`, {
        inputs: [{ name: 'x', shape: [1, 5], datatype: 'FP32', data: [1, 2, 3, 4, 5] }],
      });
      expect(long).toEqual({
        status: 400,
        json: { error: 'input x: shape [1, 5] dimension 1 is 5 but the model expects [-1, 3]' },
      });
    } finally {
      await t.close();
      repo.cleanup();
    }
    const bad = makeRepo({ seq: 'inputs:\n  - name: x\n    datatype: INT32\n' });
    try {
      const error = await startFailure(bad.root);
      expect((error as Error).message).toMatch(
        /config.yaml: inputs\[0\].datatype: is INT32 but the model's x is FP32$/,
      );
    } finally {
      bad.cleanup();
    }
  });

  it('serves /metrics on --metrics-port instead of the HTTP port when asked', async () => {
    const t = await startTestServer(join(FIXTURES, 'fixed', '1', 'model.onnx'), { metricsPort: 0 });
    try {
      const port = t.server.metricsPort!;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toContain('ferry_model_load_duration_seconds{model="model",version="1"}');
      expect((await fetch(`${t.url}/metrics`)).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  it('serves a single model file, and keeps the repository routes off without a token', async () => {
    const t = await startTestServer(join(FIXTURES, 'fixed', '1', 'model.onnx'));
    try {
      const meta = await getJson(`${t.url}/v2/models/model`);
      expect(meta.json).toMatchObject({
        name: 'model',
        versions: ['1'],
        inputs: [{ name: 'm', shape: [2, 3] }],
      });
      expect((await postJson(`${t.url}/v2/repository/index`, {})).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('poll mode', () => {
  let repo: ReturnType<typeof makeRepo>;
  let t: TestServer;
  beforeAll(async () => {
    repo = makeRepo({ mlp: 'version_policy:\n  latest: 1\n' });
    // polling is driven by hand (repository.poll(), what each interval runs) so the test never waits on a timer
    t = await startTestServer(repo.root, {
      modelControl: 'poll',
      pollIntervalMs: 3_600_000,
      repositoryToken: TOKEN,
    });
  });
  afterAll(async () => {
    await t.close();
    repo.cleanup();
  });
  const versions = async () => (await getJson(`${t.url}/v2/models/mlp`)).json.versions;

  it('loads a new version, keeps serving the old one when a reload fails, recovers when fixed', async () => {
    expect(await versions()).toEqual(['1']);
    cpSync(join(repo.root, 'mlp', '1'), join(repo.root, 'mlp', '2'), { recursive: true });
    await t.server.repository.poll();
    expect(await versions()).toEqual(['2']);
    expect((await postJson(`${t.url}/v2/models/mlp/versions/1/infer`, x)).status).toBe(404);

    // version 3 is broken: the reload fails and version 2 keeps answering
    mkdirSync(join(repo.root, 'mlp', '3'));
    writeFileSync(join(repo.root, 'mlp', '3', 'model.onnx'), 'this is not an onnx file');
    await t.server.repository.poll();
    expect(await versions()).toEqual(['2']);
    expect((await postJson(`${t.url}/v2/models/mlp/infer`, x)).status).toBe(200);
    expect((await getJson(`${t.url}/v2/health/ready`)).status).toBe(200);
    const index = await fetch(`${t.url}/v2/repository/index`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const entries = (await index.json()) as {
      name: string;
      version: string;
      state: string;
      reason: string;
    }[];
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ name: 'mlp', version: '2', state: 'READY' });
    expect(entries[0]!.reason).toMatch(/mlp\/3\/model.onnx: cannot load model: /);

    cpSync(join(repo.root, 'mlp', '1', 'model.onnx'), join(repo.root, 'mlp', '3', 'model.onnx'));
    await t.server.repository.poll();
    expect(await versions()).toEqual(['3']);
  });

  it('refuses explicit load/unload in poll mode', async () => {
    const response = await fetch(`${t.url}/v2/repository/models/mlp/unload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe(
      'model control mode is poll; unload needs --model-control explicit',
    );
  });
});

describe('poll mode on its timer', () => {
  it('picks up a new version by itself', async () => {
    const repo = makeRepo({ mlp: null });
    const t = await startTestServer(repo.root, { modelControl: 'poll', pollIntervalMs: 50 });
    try {
      cpSync(join(repo.root, 'mlp', '1'), join(repo.root, 'mlp', '4'), { recursive: true });
      let versions: unknown;
      for (let i = 0; i < 400 && JSON.stringify(versions) !== '["4"]'; i++) {
        versions = (await getJson(`${t.url}/v2/models/mlp`)).json.versions;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(versions).toEqual(['4']);
    } finally {
      await t.close();
      repo.cleanup();
    }
  });
});

describe('explicit mode and the repository extension', () => {
  let repo: ReturnType<typeof makeRepo>;
  let t: TestServer;
  beforeAll(async () => {
    repo = makeRepo({ mlp: null, fixed: null });
    t = await startTestServer(repo.root, {
      modelControl: 'explicit',
      loadModels: ['mlp'],
      repositoryToken: TOKEN,
    });
  });
  afterAll(async () => {
    await t.close();
    repo.cleanup();
  });
  const control = (path: string, token: string | null = TOKEN) =>
    fetch(`${t.url}/v2/repository${path}`, {
      method: 'POST',
      ...(token !== null && { headers: { authorization: `Bearer ${token}` } }),
    });

  it('needs the bearer token', async () => {
    expect((await control('/index', null)).status).toBe(401);
    const wrong = await control('/index', 'test-token-0123456788');
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toMatch(/Authorization: Bearer/);
    expect((await control('/models/fixed/load', 'x')).status).toBe(401);
  });

  it('loads only what it is told: index, load, unload', async () => {
    const index = (await (await control('/index')).json()) as { name: string; state: string }[];
    expect(index).toEqual([
      { name: 'fixed', state: 'UNAVAILABLE', reason: 'not loaded' },
      { name: 'mlp', version: '1', state: 'READY', reason: '' },
    ]);
    expect((await getJson(`${t.url}/v2/models/fixed`)).status).toBe(404);
    expect((await control('/models/fixed/load')).status).toBe(200);
    expect((await getJson(`${t.url}/v2/models/fixed/ready`)).json).toEqual({ name: 'fixed', ready: true });
    expect((await control('/models/mlp/unload')).status).toBe(200);
    expect((await postJson(`${t.url}/v2/models/mlp/infer`, x)).status).toBe(404);
    expect((await control('/models/mlp/load')).status).toBe(200);
    expect((await postJson(`${t.url}/v2/models/mlp/infer`, x)).status).toBe(200);
  });

  it('a model whose load failed answers 503 not ready; the load call says why', async () => {
    mkdirSync(join(repo.root, 'broken', '1'), { recursive: true });
    writeFileSync(join(repo.root, 'broken', '1', 'model.onnx'), 'not onnx');
    const load = await control('/models/broken/load');
    expect(load.status).toBe(400);
    expect(((await load.json()) as { error: string }).error).toMatch(
      /broken\/1\/model.onnx: cannot load model: /,
    );
    const infer = await postJson(`${t.url}/v2/models/broken/infer`, x);
    expect(infer.status).toBe(503);
    expect(infer.json.error).toMatch(/^model broken version latest is not ready \(.*cannot load model/);
    expect((await getJson(`${t.url}/v2/models/broken/ready`)).json).toEqual({ name: 'broken', ready: false });
    expect((await getJson(`${t.url}/v2/health/ready`)).status).toBe(503);
    expect((await control('/models/broken/unload')).status).toBe(200);
    expect((await getJson(`${t.url}/v2/health/ready`)).status).toBe(200);
  });

  it('refuses names that are not model folders', async () => {
    const missing = await control('/models/nope/load');
    expect(missing.status).toBe(404);
    const climbing = await control('/models/..%2F..%2Fetc/load');
    expect(climbing.status).toBe(400);
    expect(((await climbing.json()) as { error: string }).error).toMatch(/is not a model folder name/);
  });
});
