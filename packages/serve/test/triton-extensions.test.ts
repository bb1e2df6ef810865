import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXPECTED,
  getJson,
  makeRepo,
  postJson,
  startTestServer,
  type TestServer,
} from './test-server.helper.js';

// Triton's model configuration and statistics extensions, compared with the JSON its docs show
// (docs/protocol/extension_model_configuration.md, extension_statistics.md).
const MLP_CONFIG = `max_batch_size: 16
dynamic_batching:
  max_queue_delay_us: 250
  preferred_batch_sizes: [4, 8]
  max_queue_size: 64
instances:
  count: 2
`;

const duration = { count: expect.any(Number), ns: expect.any(Number) };

describe('Triton config and statistics routes', () => {
  let t: TestServer;
  let repo: ReturnType<typeof makeRepo>;
  beforeAll(async () => {
    repo = makeRepo({ mlp: MLP_CONFIG, fixed: null });
    t = await startTestServer(repo.root);
  });
  afterAll(async () => {
    await t?.close();
    repo?.cleanup();
  });

  it('GET /v2/models/<m>/config answers the model config in Triton JSON', async () => {
    const { status, json } = await getJson(`${t.url}/v2/models/mlp/config`);
    expect(status).toBe(200);
    expect(json).toMatchObject({
      name: 'mlp',
      platform: 'onnx_onnxv1',
      backend: 'onnxruntime',
      max_batch_size: 16,
      version_policy: { latest: { num_versions: 1 } },
      // dims without the batch dimension, as Triton writes them when max_batch_size > 0
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [8] }],
      output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [4] }],
      dynamic_batching: {
        preferred_batch_size: [4, 8],
        max_queue_delay_microseconds: 250,
        default_queue_policy: { max_queue_size: 64 },
      },
      instance_group: [{ name: 'mlp_0', kind: 'KIND_CPU', count: 2 }],
    });
    expect((await getJson(`${t.url}/v2/models/mlp/versions/1/config`)).json).toEqual(json);
    // a model without a batch dimension: max_batch_size 0, full dims, no dynamic_batching
    const fixed = (await getJson(`${t.url}/v2/models/fixed/config`)).json;
    expect(fixed.max_batch_size).toBe(0);
    expect(fixed).not.toHaveProperty('dynamic_batching');
    expect((fixed.input as { dims: number[] }[])[0]!.dims).toEqual(
      EXPECTED.fixed.inputs[Object.keys(EXPECTED.fixed.inputs)[0]!]!.shape,
    );
  });

  it('unknown model or version: 404', async () => {
    expect((await getJson(`${t.url}/v2/models/nope/config`)).status).toBe(404);
    expect((await getJson(`${t.url}/v2/models/mlp/versions/9/config`)).status).toBe(404);
    expect((await getJson(`${t.url}/v2/models/nope/stats`)).status).toBe(404);
    expect((await getJson(`${t.url}/v2/models/mlp/versions/9/stats`)).status).toBe(404);
  });

  it('GET /v2/models/<m>/stats counts requests, inferences, executions and their times', async () => {
    const before = Date.now();
    const x = EXPECTED.mlp.inputs.x;
    for (let i = 0; i < 3; i++) {
      const ok = await postJson(`${t.url}/v2/models/mlp/infer`, {
        inputs: [{ name: 'x', shape: x.shape, datatype: 'FP32', data: x.data }],
      });
      expect(ok.status).toBe(200);
    }
    const bad = await postJson(`${t.url}/v2/models/mlp/infer`, {
      inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }],
    });
    expect(bad.status).toBe(400);

    const { status, json } = await getJson(`${t.url}/v2/models/mlp/stats`);
    expect(status).toBe(200);
    const stats = json.model_stats as ModelStat[];
    expect(stats).toHaveLength(1);
    const [s] = stats;
    expect(s).toMatchObject({
      name: 'mlp',
      version: '1',
      inference_count: 3 * x.shape[0]!, // rows, as Triton counts them
      inference_stats: {
        success: duration,
        fail: { count: 1, ns: expect.any(Number) },
        queue: duration,
        compute_input: duration,
        compute_infer: duration,
        compute_output: duration,
        cache_hit: { count: 0, ns: 0 },
        cache_miss: { count: 0, ns: 0 },
      },
    });
    const inf = s!.inference_stats;
    expect(inf.success.count).toBe(3);
    expect(inf.success.ns).toBeGreaterThan(0);
    expect(inf.queue.count).toBe(3);
    expect(inf.compute_infer.count).toBe(3);
    expect(inf.compute_infer.ns).toBeGreaterThan(0);
    expect(inf.compute_output.count).toBe(3);
    // the warmup runs are not requests: execution_count counts only what requests caused
    expect(s!.execution_count).toBeGreaterThanOrEqual(1);
    expect(s!.execution_count).toBeLessThanOrEqual(3);
    expect(s!.last_inference).toBeGreaterThanOrEqual(before);
    expect(s!.batch_stats).toEqual([
      {
        batch_size: x.shape[0],
        compute_input: { count: 0, ns: 0 },
        compute_infer: duration,
        compute_output: { count: 0, ns: 0 },
      },
    ]);
    expect((await getJson(`${t.url}/v2/models/mlp/versions/1/stats`)).json).toEqual({ model_stats: [s] });
  });

  it('GET /v2/models/stats lists every version serving, zeros before the first request', async () => {
    const { json } = await getJson(`${t.url}/v2/models/stats`);
    const stats = json.model_stats as ModelStat[];
    expect(stats.map((s) => `${s.name}/${s.version}`)).toEqual(['fixed/1', 'mlp/1']);
    expect(stats[0]).toMatchObject({ inference_count: 0, execution_count: 0, last_inference: 0 });
  });

  it('GET /v2 advertises statistics and model_configuration, not model_repository when it is off', async () => {
    const { json } = await getJson(`${t.url}/v2`);
    expect(json.extensions).toEqual(
      expect.arrayContaining(['statistics', 'model_configuration', 'binary_tensor_data']),
    );
    expect(json.extensions).not.toContain('model_repository');
    const grpc = await t.call<{ extensions: string[] }>('ServerMetadata', {});
    expect(grpc.extensions).not.toContain('model_repository');
  });

  it('GET /v2 advertises model_repository when the repository token turns it on', async () => {
    const withRepo = await startTestServer(repo.root, { repositoryToken: 'secret' });
    try {
      expect((await getJson(`${withRepo.url}/v2`)).json.extensions).toContain('model_repository');
      expect((await withRepo.call<{ extensions: string[] }>('ServerMetadata', {})).extensions).toContain(
        'model_repository',
      );
    } finally {
      await withRepo.close();
    }
  });
});
