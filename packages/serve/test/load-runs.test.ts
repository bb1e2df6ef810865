import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnx } from '@ferry/formats';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, startTestServer, type TestServer } from './test-server.helper.js';

/**
 * Issue #18 item 1: the load-time runs (warmup, the placement probe) feed zeros of the declared
 * shapes, which some valid models refuse. sklearn-onnx's tree classifiers (the real treecl*.onnx
 * from fixtures/wild) declare [?, ?], and fixtures/serve-load-runs has one made with onnx.helper
 * (24 features) and a Range model whose zero delta ONNX Runtime refuses. Every one must become
 * ready, say what was not done, and answer exactly as onnxruntime-node does on the same file.
 */
const WILD = fileURLToPath(new URL('../../../fixtures/wild/', import.meta.url));
const MADE = fileURLToPath(new URL('../../../fixtures/serve-load-runs/', import.meta.url));
const TREES: Record<string, string> = {
  treecl: join(WILD, 'treecl.onnx'),
  treecl2: join(WILD, 'treecl2.onnx'),
  treecl3: join(WILD, 'treecl3.onnx'),
  tree24: join(MADE, 'tree24/1/model.onnx'),
};
const EXPECTED = JSON.parse(readFileSync(join(MADE, 'expected.json'), 'utf8')) as {
  range: { inputs: Record<string, number>; y: number[] };
};

/** How many features the trees read: the largest nodes_featureids + 1, from the file itself. */
function featureCount(path: string): number {
  const node = onnx.decodeModel(readFileSync(path)).graph!.node![0]!;
  const ids = node.attribute!.find((a) => a.name === 'nodes_featureids')!.ints!;
  return Math.max(...ids.map(Number)) + 1;
}

/** Rows of values around the trees' thresholds, a different pattern per column. */
function rows(count: number, features: number): Float32Array {
  return Float32Array.from({ length: count * features }, (_, i) => ((i * 7919) % 13) / 4 - 1.5);
}

let root: string;
let t: TestServer;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ferry-load-runs-'));
  for (const [name, file] of Object.entries(TREES)) {
    mkdirSync(join(root, name, '1'), { recursive: true });
    cpSync(file, join(root, name, '1', 'model.onnx'));
  }
  cpSync(join(MADE, 'range'), join(root, 'range'), { recursive: true });
  // the same model with its feature count given in config.yaml: now it can be warmed and timed
  cpSync(join(root, 'treecl'), join(root, 'treecl_shaped'), { recursive: true });
  writeFileSync(join(root, 'treecl_shaped', 'config.yaml'), 'inputs:\n  - name: input\n    shape: [20]\n');
  t = await startTestServer(root);
});
afterAll(async () => {
  await t?.close();
  rmSync(root, { recursive: true, force: true });
});

const reasonOf = async (model: string) =>
  (await t.server.repository.index()).find((e) => e.name === model && e.version === '1')?.reason;

describe('load-time runs never make a valid model unloadable', () => {
  for (const [name, file] of Object.entries(TREES)) {
    it(`${name}: input [?, ?] loads untimed and unwarmed, and answers as onnxruntime does`, async () => {
      const served = t.server.repository.resolve(name);
      expect(served.inputs[0]!.shape).toEqual([-1, -1]);
      expect(served.probeUs).toBeUndefined();
      expect(served.loadNotes).toEqual([
        'not warmed up: input input has dimension 1 known only per request (shape [-1, -1]); give its shape in config.yaml inputs to warm it up',
      ]);
      expect(await reasonOf(name)).toContain('not warmed up');

      const features = featureCount(file);
      const x = rows(5, features);
      const session = await ort.InferenceSession.create(readFileSync(file));
      const want = await session.run({ input: new ort.Tensor('float32', x, [5, features]) });
      const { status, json } = await postJson(`${t.url}/v2/models/${name}/infer`, {
        inputs: [{ name: 'input', datatype: 'FP32', shape: [5, features], data: [...x] }],
      });
      expect(status).toBe(200);
      const outputs = json.outputs as { name: string; shape: number[]; data: number[] }[];
      expect(outputs.map((o) => o.name).sort()).toEqual(session.outputNames.slice().sort());
      for (const out of outputs) {
        const reference = want[out.name]!;
        expect(out.shape).toEqual(reference.dims);
        // bit for bit: the same runtime on the same file and input
        expect(out.data).toEqual([...(reference.data as Float32Array | BigInt64Array)].map(Number));
      }
      await session.release();
    });
  }

  it('a config.yaml shape for the unknown dimension makes the same model warmable and timed', async () => {
    const served = t.server.repository.resolve('treecl_shaped');
    expect(served.inputs[0]!.shape).toEqual([-1, 20]);
    expect(served.loadNotes).toEqual([]);
    expect(served.probeUs).toBeGreaterThan(0);
    expect(await reasonOf('treecl_shaped')).toBe('');
  });

  it('a model whose zero-filled run fails (Range with delta 0) loads, noted not timed and not warmed', async () => {
    const served = t.server.repository.resolve('range');
    expect(served.probeUs).toBeUndefined();
    expect(served.placement).toBe('worker');
    expect(served.loadNotes).toHaveLength(2);
    expect(served.loadNotes[0]).toMatch(/^not timed: the zero-filled timing run failed: .*delta .*zero/);
    expect(served.loadNotes[1]).toMatch(/^not warmed up: the zero-filled run \(batch none\) failed: .*delta/);
    expect(await reasonOf('range')).toContain('not timed');

    const inputs = Object.entries(EXPECTED.range.inputs).map(([name, value]) => ({
      name,
      datatype: 'FP32',
      shape: [],
      data: [value],
    }));
    const { status, json } = await postJson(`${t.url}/v2/models/range/infer`, { inputs });
    expect(status).toBe(200);
    expect((json.outputs as { data: number[] }[])[0]!.data).toEqual(EXPECTED.range.y);
  });
});
