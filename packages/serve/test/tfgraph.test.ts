import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { protobuf, savedmodel } from '@ferry/formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, postJson, startTestServer, type TestServer } from './test-server.helper.js';

// Frozen TensorFlow graphs served by converting them to ONNX at load: tensorflow-onnx's regression
// graph and half_plus_two frozen from TF Serving's SavedModel, answers compared with
// fixtures/tfgraph/expected.json (computed from the graphs' constants by NumPy, never by ferry).
const FIXTURES = fileURLToPath(new URL('../../../fixtures/tfgraph/', import.meta.url));
type Recorded = { dtype: string; dims: number[]; values: number[] };
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<
  string,
  { inputs: Record<string, Recorded>; outputs: Record<string, Recorded> }
>;

describe('ferry serve with frozen GraphDef files', () => {
  let dir: string;
  let repo: TestServer;
  let single: TestServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-serve-tfgraph-'));
    // Triton's layout for platform tensorflow_graphdef: <model>/<version>/model.graphdef
    for (const [name, file] of [
      ['hpt', 'half_plus_two_frozen.pb'],
      ['regression', 'regression_graphdef_frozen.pb'],
      ['hpt_mul', 'half_plus_two_frozen.pb'],
    ] as const) {
      mkdirSync(join(dir, 'repo', name, '1'), { recursive: true });
      copyFileSync(join(FIXTURES, file), join(dir, 'repo', name, '1', 'model.graphdef'));
    }
    // config.yaml narrows the converted model's tensors by their tensor names
    writeFileSync(
      join(dir, 'repo', 'regression', 'config.yaml'),
      'max_batch_size: 0\ninputs:\n  - name: "X:0"\n    shape: [4]\n',
    );
    // config.yaml names the tensors to fetch, as Triton's config does for a graphdef model
    writeFileSync(join(dir, 'repo', 'hpt_mul', 'config.yaml'), 'outputs:\n  - name: "Mul:0"\n');
    // a graph with an op that has no ONNX conversion: unavailable with the converter's one line
    mkdirSync(join(dir, 'repo', 'unique', '1'), { recursive: true });
    writeFileSync(
      join(dir, 'repo', 'unique', '1', 'model.graphdef'),
      protobuf.encodeMessage(savedmodel.savedModelProtos.GraphDef, {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: { type: 1 } } },
          { name: 'ids', op: 'Unique', input: ['x'], attr: { T: { type: 1 }, out_idx: { type: 3 } } },
        ],
      }),
    );
    repo = await startTestServer(join(dir, 'repo'), {
      cacheDir: join(dir, 'cache'),
      repositoryToken: 'a-test-token-of-32-characters-xx',
    });
    // a single file under any name: its bytes say it is a GraphDef
    single = await startTestServer(join(FIXTURES, 'half_plus_two_frozen.pb'), {
      cacheDir: join(dir, 'cache'),
    });
  }, 60_000);
  afterAll(async () => {
    await repo?.close();
    await single?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('describes the converted model: platform tensorflow_graphdef, tensors named x:0 / y:0', async () => {
    const { status, json } = await getJson(`${repo.url}/v2/models/hpt`);
    expect(status).toBe(200);
    expect(json).toEqual({
      name: 'hpt',
      versions: ['1'],
      platform: 'tensorflow_graphdef',
      inputs: [{ name: 'x:0', datatype: 'FP32', shape: [-1, 1] }],
      outputs: [{ name: 'y:0', datatype: 'FP32', shape: [-1, 1] }],
    });
  });

  it('half_plus_two: y = 0.5x + 2, from a repository and from a single file', async () => {
    const { inputs, outputs } = expected['half_plus_two_frozen.pb']!;
    const x = inputs['x:0']!;
    for (const [server, model] of [
      [repo, 'hpt'],
      [single, 'half_plus_two_frozen'],
    ] as const) {
      const { status, json } = await postJson(`${server.url}/v2/models/${model}/infer`, {
        inputs: [{ name: 'x:0', datatype: 'FP32', shape: x.dims, data: x.values }],
      });
      expect(status, JSON.stringify(json)).toBe(200);
      expect(json.outputs).toEqual([
        { name: 'y:0', datatype: 'FP32', shape: outputs['y:0']!.dims, data: outputs['y:0']!.values },
      ]);
    }
  });

  it("tensorflow-onnx's regression graph: pred = X * W + b, bit for bit", async () => {
    const { inputs, outputs } = expected['regression_graphdef_frozen.pb']!;
    const meta = await getJson(`${repo.url}/v2/models/regression`);
    expect(meta.json.inputs).toEqual([{ name: 'X:0', datatype: 'FP32', shape: [4] }]);
    const X = inputs['X:0']!;
    const { status, json } = await postJson(`${repo.url}/v2/models/regression/infer`, {
      inputs: [{ name: 'X:0', datatype: 'FP32', shape: X.dims, data: X.values }],
    });
    expect(status, JSON.stringify(json)).toBe(200);
    expect((json.outputs as { data: number[] }[])[0]!.data).toEqual(outputs['pred:0']!.values);
  });

  it('config.yaml outputs choose the fetched tensor: Mul:0 is 0.5x, without the + 2', async () => {
    const meta = await getJson(`${repo.url}/v2/models/hpt_mul`);
    expect(meta.json.outputs).toEqual([{ name: 'Mul:0', datatype: 'FP32', shape: [-1, 1] }]);
    const { status, json } = await postJson(`${repo.url}/v2/models/hpt_mul/infer`, {
      inputs: [{ name: 'x:0', datatype: 'FP32', shape: [2, 1], data: [4, -1] }],
    });
    expect(status, JSON.stringify(json)).toBe(200);
    expect((json.outputs as { data: number[] }[])[0]!.data).toEqual([2, -0.5]);
  });

  it("a graph with an op ONNX lacks is skipped (UNAVAILABLE) with the converter's one line; the others serve", async () => {
    const response = await fetch(`${repo.url}/v2/repository/index`, {
      method: 'POST',
      headers: { authorization: 'Bearer a-test-token-of-32-characters-xx' },
    });
    const byName = new Map(
      ((await response.json()) as { name: string; state: string; reason: string }[]).map((e) => [e.name, e]),
    );
    expect(byName.get('unique')).toMatchObject({ state: 'UNAVAILABLE' });
    expect(byName.get('unique')!.reason).toMatch(
      /^skipped: .*op Unique \(node ids in graph\) has no ONNX conversion/,
    );
    expect(byName.get('hpt')).toMatchObject({ state: 'READY' });
  });
});
