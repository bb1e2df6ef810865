import { cpSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxruntimeBackend } from '../src/backends/onnxruntime.js';
import {
  EVENT_LOOP_MAX_RUN_US,
  PROBE_MAX_INPUT_BYTES,
  PROBE_MAX_MODEL_BYTES,
  placeInstances,
  probeable,
} from '../src/repository/placement.js';
import {
  closeTo,
  EXPECTED,
  FIXTURES,
  makeRepo,
  postJson,
  startTestServer,
  type TestServer,
} from './test-server.helper.js';

/**
 * instances.placement with real models: auto times a zero-filled run of the largest batch at load
 * and keeps a model on the event loop only when that run is tiny; a heavy model with a tiny file
 * and a model whose size is unknown until a request comes stay on worker threads.
 */
let t: TestServer;
let repo: ReturnType<typeof makeRepo>;
beforeAll(async () => {
  repo = makeRepo({ mlp: null, slow: null, seq: null });
  cpSync(`${repo.root}/mlp`, `${repo.root}/mlp_worker`, { recursive: true });
  writeFileSync(`${repo.root}/mlp_worker/config.yaml`, 'instances:\n  placement: worker\n');
  cpSync(`${repo.root}/slow`, `${repo.root}/slow_loop`, { recursive: true });
  writeFileSync(
    `${repo.root}/slow_loop/config.yaml`,
    'max_batch_size: 4\ninstances:\n  count: 2\n  placement: event_loop\n',
  );
  t = await startTestServer(repo.root);
});
afterAll(async () => {
  await t.close();
  repo.cleanup();
});

const served = (model: string) => t.server.repository.resolve(model);
const infer = (model: string, name: 'mlp' | 'slow') =>
  postJson(`${t.url}/v2/models/${model}/infer`, {
    inputs: [{ name: 'x', datatype: 'FP32', ...EXPECTED[name]!.inputs.x }],
  });

describe('instances.placement', () => {
  it('auto keeps a tiny model on the event loop, timed at its largest batch', async () => {
    expect(served('mlp').placement).toBe('event_loop');
    expect(served('mlp').probeUs).toBeLessThan(EVENT_LOOP_MAX_RUN_US);
    const { status, json } = await infer('mlp', 'mlp');
    expect(status).toBe(200);
    const y = (json.outputs as { data: number[] }[])[0]!.data;
    expect(closeTo(y, EXPECTED.mlp.outputs.y!.data as number[])).toBe(true);
  });

  it('auto puts a heavy model with a tiny file on a worker thread', () => {
    expect(served('slow').placement).toBe('worker');
    expect(served('slow').probeUs).toBeGreaterThanOrEqual(EVENT_LOOP_MAX_RUN_US);
  });

  it('auto puts a model with a dimension known only per request on a worker, untimed', () => {
    expect(served('seq').placement).toBe('worker');
    expect(served('seq').probeUs).toBeUndefined();
  });

  it('worker and event_loop are obeyed, and both answer as torch did', async () => {
    expect(served('mlp_worker').placement).toBe('worker');
    expect(served('slow_loop').placement).toBe('event_loop');
    for (const [model, name] of [
      ['mlp_worker', 'mlp'],
      ['slow_loop', 'slow'],
    ] as const) {
      const { status, json } = await infer(model, name);
      expect(status).toBe(200);
      const y = (json.outputs as { data: number[] }[])[0]!.data;
      expect(closeTo(y, EXPECTED[name]!.outputs.y!.data as number[])).toBe(true);
    }
  });

  it('auto does not time a model file over the probe limit (a second copy would load to do it)', async () => {
    const loaded = await onnxruntimeBackend.load(`${FIXTURES}mlp/1/model.onnx`, {});
    const probe = {
      inputs: () => new Map([['x', { datatype: 'FP32' as const, shape: [1, 8], bytes: new Uint8Array(32) }]]),
      outputs: ['y'],
    };
    const small = await placeInstances(loaded, 1, 'auto', probe);
    const large = await placeInstances(
      { ...loaded, modelBytes: PROBE_MAX_MODEL_BYTES + 1 },
      1,
      'auto',
      probe,
    );
    try {
      expect([small.placement, large.placement]).toEqual(['event_loop', 'worker']);
      expect(large.probeUs).toBeUndefined();
    } finally {
      await Promise.all([...small.instances, ...large.instances].map((i) => i.close()));
      await loaded.close();
    }
  });

  it('times only inputs of known size at the largest batch, within the input limit', () => {
    const fp32 = (shape: number[]) => [{ name: 'x', datatype: 'FP32' as const, shape }];
    expect(probeable(fp32([-1, 8]), 32)).toBe(true);
    expect(probeable(fp32([-1, 8]), 0)).toBe(false); // no batching: -1 is a per-request size
    expect(probeable(fp32([-1, -1]), 32)).toBe(false);
    expect(probeable([{ name: 's', datatype: 'BYTES', shape: [-1, 1] }], 32)).toBe(false);
    const rowsAtLimit = PROBE_MAX_INPUT_BYTES / 4 / 1024;
    expect(probeable(fp32([-1, 1024]), rowsAtLimit)).toBe(true);
    expect(probeable(fp32([-1, 1024]), rowsAtLimit + 1)).toBe(false);
  });
});
