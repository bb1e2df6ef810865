import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { checkModel, decodeModel } from '../../src/formats.js';
import { convertSavedModelToOnnx } from '../../src/savedmodel-to-onnx/convert.js';
import { isConvertError } from '../../src/errors.js';

const FIXTURES = join(import.meta.dirname, '../../../../../shared/fixtures/savedmodel');
const HPT1 = join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123');
const HPT2 = join(FIXTURES, 'saved_model_half_plus_two_tf2_cpu/00000123');
const TFJS = join(FIXTURES, 'tfjs-node');

type Feed = Record<string, { type: ort.Tensor.Type; data: number[] | bigint[]; dims: number[] }>;

async function run(
  dir: string,
  signature: string | undefined,
  feed: Feed,
): Promise<Record<string, ort.Tensor>> {
  const bytes = await convertSavedModelToOnnx(dir, signature ? { signature } : {});
  expect(checkModel(decodeModel(bytes))).toEqual([]);
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feed)) {
    const data =
      v.type === 'float32'
        ? Float32Array.from(v.data as number[])
        : v.type === 'int32'
          ? Int32Array.from(v.data as number[])
          : v.type === 'uint8'
            ? Uint8Array.from(v.data as number[])
            : BigInt64Array.from(v.data as bigint[]);
    feeds[k] = new ort.Tensor(v.type, data, v.dims);
  }
  const out = await session.run(feeds);
  await session.release();
  return out;
}

const values = (t: ort.Tensor | undefined) =>
  Array.from(t!.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v));

describe('SavedModel fixtures convert to ONNX and answer what TensorFlow answers', () => {
  for (const [label, dir] of [
    ['TF1', HPT1],
    ['TF2', HPT2],
  ] as const) {
    it(`half_plus_two ${label} serving_default: y = 0.5x + 2`, async () => {
      // The TF1 export takes [-1, 1]; the TF2 export's signature is fixed at [1].
      const feed = label === 'TF1' ? { data: [1, 2, 5], dims: [3, 1] } : { data: [5], dims: [1] };
      const out = await run(dir, undefined, { x: { type: 'float32', ...feed } });
      expect(values(out.y)).toEqual(label === 'TF1' ? [2.5, 3, 4.5] : [4.5]);
    });
    it(`half_plus_two ${label} regress_x2_to_y3: y = 0.5x + 3`, async () => {
      const out = await run(dir, 'regress_x2_to_y3', {
        inputs: { type: 'float32', data: [4], dims: label === 'TF2' ? [1] : [1, 1] },
      });
      expect(values(out.outputs)).toEqual([5]);
    });
    it(`half_plus_two ${label} classify_x_to_y: string Example input is refused naming the node`, async () => {
      const err = await convertSavedModelToOnnx(dir, { signature: 'classify_x_to_y' }).catch((e) => e);
      expect(isConvertError(err) && err.code).toBe('FERRY_TF2ONNX_SIGNATURE');
      expect(err.message).toMatch(/input inputs \(node (tf_example|classify_x_to_y_inputs)\).*DT_STRING/);
    });
  }

  it('half_plus_two TF2 classify_x2_to_y3 (a float input) converts: 0.5x + 3', async () => {
    const out = await run(HPT2, 'classify_x2_to_y3', { inputs: { type: 'float32', data: [2], dims: [1] } });
    expect(values(out.scores)).toEqual([4]);
  });

  // The tfjs signatures declare scalar inputs (tfjs's tests feed [1,2,3] elementwise): fed as declared.
  it('times_three_float: 3x', async () => {
    for (const x of [1, 2, 3]) {
      const out = await run(join(TFJS, 'times_three_float'), undefined, {
        x: { type: 'float32', data: [x], dims: [] },
      });
      expect(values(out.output_0)).toEqual([3 * x]);
    }
  });

  it('times_two_int: 2x', async () => {
    const out = await run(join(TFJS, 'times_two_int'), undefined, {
      x: { type: 'int32', data: [3], dims: [] },
    });
    expect(values(out.output_0)).toEqual([6]);
  });

  it('uint8_multiply: 3 -> 18 (int32)', async () => {
    const out = await run(join(TFJS, 'uint8_multiply'), undefined, {
      x: { type: 'uint8', data: [3], dims: [1] },
    });
    expect(out.output_0!.type).toBe('int32');
    expect(values(out.output_0)).toEqual([18]);
  });

  it('int64_multiply: [3,4] -> [18,24]', async () => {
    const out = await run(join(TFJS, 'int64_multiply'), undefined, {
      x: { type: 'int64', data: [3n, 4n], dims: [2] },
    });
    expect(values(out.output_0)).toEqual([18, 24]);
  });

  it('module_with_multiple_signatures: serving_default 3x, timestwo 2x', async () => {
    const dir = join(TFJS, 'module_with_multiple_signatures');
    const three = await run(dir, undefined, { x: { type: 'float32', data: [2], dims: [] } });
    expect(values(three.output_0)).toEqual([6]);
    const two = await run(dir, 'timestwo', { x: { type: 'float32', data: [2], dims: [] } });
    expect(values(two.output_0)).toEqual([4]);
  });

  it('model_single_input_multi_output: output_0 = 2x, output_1 = x', async () => {
    const out = await run(join(TFJS, 'model_single_input_multi_output'), undefined, {
      x: { type: 'int32', data: [5], dims: [] },
    });
    expect(values(out.output_0)).toEqual([10]);
    expect(values(out.output_1)).toEqual([5]);
  });

  it('model_multi_output: output_0 = 2x, output_1 = y', async () => {
    const out = await run(join(TFJS, 'model_multi_output'), undefined, {
      x: { type: 'int32', data: [7], dims: [] },
      y: { type: 'int32', data: [9], dims: [] },
    });
    expect(values(out.output_0)).toEqual([14]);
    expect(values(out.output_1)).toEqual([9]);
  });

  it('saved_model_counter: get_counter freezes the TF1 variable; incr_counter is a stateful op', async () => {
    const dir = join(FIXTURES, 'saved_model_counter/00000123');
    const out = await run(dir, 'get_counter', {});
    expect(values(out.output)).toEqual([0]);
    const err = await convertSavedModelToOnnx(dir, { signature: 'incr_counter' }).catch((e) => e);
    expect(err.code).toBe('FERRY_TF2ONNX_UNSUPPORTED_OP');
    expect(err.message).toContain('op AssignAdd (node incr_counter_op/AssignAdd in graph)');
    const none = await convertSavedModelToOnnx(dir).catch((e) => e);
    expect(none.code).toBe('FERRY_TF2ONNX_SIGNATURE');
  });
});
