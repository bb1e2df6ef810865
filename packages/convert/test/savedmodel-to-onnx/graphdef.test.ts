import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { protobuf, savedmodel } from '@ferry/formats';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { TFGRAPH_TO_ONNX } from '../../src/converters.js';
import { isConvertError } from '../../src/errors.js';
import { checkModel, decodeModel } from '../../src/formats.js';
import { convertGraphDefToOnnx } from '../../src/savedmodel-to-onnx/graphdef.js';

const TFGRAPH = join(import.meta.dirname, '../../../../fixtures/tfgraph');
type Expected = Record<string, { dtype: string; dims: number[]; values: number[] }>;
const expected = JSON.parse(readFileSync(join(TFGRAPH, 'expected.json'), 'utf8')) as Record<
  string,
  { inputs: Expected; outputs: Expected }
>;
const work = mkdtempSync(join(tmpdir(), 'ferry-graphdef-onnx-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(bytes: Uint8Array, inputs: Expected): Promise<Record<string, ort.Tensor>> {
  expect(checkModel(decodeModel(bytes))).toEqual([]);
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, v] of Object.entries(inputs))
      feeds[name] = new ort.Tensor('float32', Float32Array.from(v.values), v.dims);
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const graphFile = (name: string, nodes: protobuf.Message[]): string => {
  const path = join(work, name);
  writeFileSync(path, protobuf.encodeMessage(savedmodel.savedModelProtos.GraphDef, { node: nodes }));
  return path;
};
const float = { dtype: { type: 1 } };
const scalar = (name: string, value: number): protobuf.Message => ({
  name,
  op: 'Const',
  attr: { ...float, value: { tensor: { dtype: 1, tensor_shape: {}, float_val: [value] } } },
});

describe('frozen GraphDef -> ONNX answers what the graph computes (expected.json, made without ferry)', () => {
  for (const file of ['regression_graphdef_frozen.pb', 'half_plus_two_frozen.pb']) {
    it(`${file}: default inputs (Placeholders) and outputs (unconsumed nodes), bit for bit`, async () => {
      const { inputs, outputs } = expected[file]!;
      const out = await run(await convertGraphDefToOnnx(join(TFGRAPH, file)), inputs);
      expect(Object.keys(out)).toEqual(Object.keys(outputs));
      for (const [name, want] of Object.entries(outputs)) {
        expect(out[name]!.dims).toEqual(want.dims);
        expect([...(out[name]!.data as Float32Array)]).toEqual(want.values);
      }
    });
  }

  it('takes inputs and outputs named as tf2onnx names them (X:0, or X for X:0) and reports them', async () => {
    const converted = await TFGRAPH_TO_ONNX.convert(join(TFGRAPH, 'regression_graphdef_frozen.pb'), {
      inputs: ['X:0'],
      outputs: ['pred'],
    });
    expect(converted.format).toBe('tfgraph');
    expect(converted.details).toMatchObject({ signature: 'graphdef', inputs: ['X:0'], outputs: ['pred:0'] });
    const { inputs, outputs } = expected['regression_graphdef_frozen.pb']!;
    const out = await run(converted.bytes, inputs);
    expect([...(out['pred:0']!.data as Float32Array)]).toEqual(outputs['pred:0']!.values);
  });

  it('cuts the graph at a named inner tensor: Mul:0 as the output needs no b', async () => {
    const converted = await TFGRAPH_TO_ONNX.convert(join(TFGRAPH, 'half_plus_two_frozen.pb'), {
      outputs: ['Mul:0'],
    });
    const out = await run(converted.bytes, { 'x:0': { dtype: 'FP32', dims: [2, 1], values: [4, -1] } });
    expect([...(out['Mul:0']!.data as Float32Array)]).toEqual([2, -0.5]);
  });

  it('names the missing node, listing placeholders and unconsumed nodes', async () => {
    const error = await TFGRAPH_TO_ONNX.convert(join(TFGRAPH, 'regression_graphdef_frozen.pb'), {
      outputs: ['nope:0'],
    }).catch((e: unknown) => e);
    expect(isConvertError(error) && error.code).toBe('FERRY_TF2ONNX_SIGNATURE');
    expect((error as Error).message).toBe(
      `${join(TFGRAPH, 'regression_graphdef_frozen.pb')}: output nope:0: the graph has no node nope (placeholders: X:0; unconsumed nodes: pred:0)`,
    );
  });

  it('an op without a conversion is one error naming the op and the node', async () => {
    const path = graphFile('unique.pb', [
      { name: 'x', op: 'Placeholder', attr: float },
      { name: 'u', op: 'Unique', input: ['x'], attr: { T: { type: 1 }, out_idx: { type: 3 } } },
    ]);
    const error = await convertGraphDefToOnnx(path).catch((e: unknown) => e);
    expect(isConvertError(error) && error.code).toBe('FERRY_TF2ONNX_UNSUPPORTED_OP');
    expect((error as Error).message).toBe(
      `${path}: op Unique (node u in graph) has no ONNX conversion: not in the list of converted ops (ferry inspect --ops shows coverage)`,
    );
  });

  it("dropout as TF1 froze it (tensorflow-onnx's gru/lstm): RandomUniform draws in [0, 1); keep_prob 1 passes x through", async () => {
    const T = { T: { type: 1 } };
    const path = graphFile('dropout.pb', [
      { name: 'x', op: 'Placeholder', attr: float },
      { name: 'keep_prob', op: 'Placeholder', attr: float },
      { name: 'shape', op: 'Shape', input: ['x'], attr: { T: { type: 1 }, out_type: { type: 3 } } },
      { name: 'u', op: 'RandomUniform', input: ['shape'], attr: { dtype: { type: 1 }, T: { type: 3 } } },
      { name: 'add', op: 'Add', input: ['keep_prob', 'u'], attr: T },
      { name: 'mask', op: 'Floor', input: ['add'], attr: T },
      { name: 'div', op: 'RealDiv', input: ['x', 'keep_prob'], attr: T },
      { name: 'y', op: 'Mul', input: ['div', 'mask'], attr: T },
    ]);
    const converted = await TFGRAPH_TO_ONNX.convert(path, { outputs: ['y:0', 'u:0'] });
    const x = Array.from({ length: 64 }, (_, i) => i - 20.5);
    const out = await run(converted.bytes, {
      'x:0': { dtype: 'FP32', dims: [8, 8], values: x },
      'keep_prob:0': { dtype: 'FP32', dims: [1], values: [1] },
    });
    expect([...(out['y:0']!.data as Float32Array)]).toEqual(x);
    const u = [...(out['u:0']!.data as Float32Array)];
    expect(out['u:0']!.dims).toEqual([8, 8]);
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(new Set(u).size).toBeGreaterThan(32); // drawn, not a constant
    const ints = graphFile('random-int.pb', [
      {
        name: 'shape',
        op: 'Const',
        attr: {
          dtype: { type: 3 },
          value: { tensor: { dtype: 3, tensor_shape: { dim: [{ size: 1n }] }, int_val: [4] } },
        },
      },
      { name: 'r', op: 'RandomUniform', input: ['shape'], attr: { dtype: { type: 3 }, T: { type: 3 } } },
    ]);
    await expect(convertGraphDefToOnnx(ints)).rejects.toThrow(
      /op RandomUniform \(node r in graph\) has no ONNX conversion: RandomUniform of dtype 3: ONNX draws floats only/,
    );
  });

  it('refuses a graph that still reads variables, and one whose every node is consumed', async () => {
    const variable = graphFile('variable.pb', [
      { name: 'w', op: 'VariableV2', attr: { ...float, shape: { shape: {} } } },
      { name: 'w/read', op: 'Identity', input: ['w'], attr: { T: { type: 1 } } },
    ]);
    await expect(convertGraphDefToOnnx(variable)).rejects.toMatchObject({ code: 'FERRY_TF2ONNX_VARIABLE' });
    const cycle = graphFile('cycle.pb', [
      scalar('c', 1),
      { name: 'a', op: 'Add', input: ['c', 'b'], attr: { T: { type: 1 } } },
      { name: 'b', op: 'Neg', input: ['a'], attr: { T: { type: 1 } } },
    ]);
    const error = await convertGraphDefToOnnx(cycle).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/outputs: every node is consumed by another.*--outputs/);
  });

  it('named inputs must cover every Placeholder the outputs reach', async () => {
    const path = graphFile('two-inputs.pb', [
      { name: 'a', op: 'Placeholder', attr: float },
      { name: 'b', op: 'Placeholder', attr: float },
      { name: 'sum', op: 'Add', input: ['a', 'b'], attr: { T: { type: 1 } } },
    ]);
    const error = await convertGraphDefToOnnx(path, { inputs: ['a:0'] }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `${path}: inputs a:0: the outputs also need Placeholder b:0; name every input`,
    );
    const bytes = await convertGraphDefToOnnx(path, { inputs: ['b', 'a'] });
    const out = await run(bytes, {
      'a:0': { dtype: 'FP32', dims: [2], values: [1, 2] },
      'b:0': { dtype: 'FP32', dims: [2], values: [10, 20] },
    });
    expect([...(out['sum:0']!.data as Float32Array)]).toEqual([11, 22]);
  });
});
