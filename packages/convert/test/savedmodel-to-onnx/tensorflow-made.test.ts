import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { checkModel, decodeModel } from '../../src/formats.js';
import { convertSavedModelToOnnx } from '../../src/savedmodel-to-onnx/convert.js';

/**
 * SavedModels TensorFlow 2.21 wrote (fixtures/make/savedmodel_onnx.py: Keras 3 CNN and text
 * models, a tf.Module of array ops, a TF1 SavedModelBuilder graph) with the outputs TensorFlow
 * computed: the converted ONNX model must give the same in onnxruntime-node.
 */
const DIR = join(import.meta.dirname, '../../../../fixtures/savedmodel-onnx');

interface Recorded {
  readonly dtype: string;
  readonly dims: number[];
  readonly values: number[];
}
const ORT_TYPE: Record<string, string> = {
  bool: 'bool',
  uint8: 'uint8',
  int32: 'int32',
  int64: 'int64',
  float32: 'float32',
  float64: 'float64',
};
type Expected = Record<
  string,
  Record<string, { inputs: Record<string, Recorded>; outputs: Record<string, Recorded> }>
>;
const EXPECTED = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Expected;

function tensorOf(r: Recorded): ort.Tensor {
  switch (r.dtype) {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(r.values), r.dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(r.values), r.dims);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(r.values.map(BigInt)), r.dims);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(r.values), r.dims);
    case 'uint8':
      return new ort.Tensor('uint8', Uint8Array.from(r.values), r.dims);
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(r.values.map(Number)), r.dims);
    default:
      throw new Error(`no feed for ${r.dtype}`);
  }
}

describe('SavedModels written by TensorFlow convert and answer what TensorFlow answered', () => {
  for (const [model, signatures] of Object.entries(EXPECTED)) {
    for (const [signature, { inputs, outputs }] of Object.entries(signatures)) {
      it(`${model} ${signature}`, async () => {
        const bytes = await convertSavedModelToOnnx(join(DIR, model), { signature });
        expect(checkModel(decodeModel(bytes))).toEqual([]);
        const session = await ort.InferenceSession.create(bytes);
        try {
          const feeds = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tensorOf(v)]));
          const got = await session.run(feeds);
          for (const [key, want] of Object.entries(outputs)) {
            const t = got[key];
            expect(t, key).toBeDefined();
            expect([...t!.dims], key).toEqual(want.dims);
            expect(t!.type, key).toBe(ORT_TYPE[want.dtype]);
            const values = Array.from(t!.data as ArrayLike<number | bigint | boolean>, Number);
            const wantValues = want.values.map(Number);
            if (want.dtype.startsWith('float')) {
              values.forEach((v, i) => {
                expect(Math.abs(v - want.values[i]!), `${key}[${i}]: ${v} vs ${want.values[i]}`).toBeLessThan(
                  1e-4 + 1e-4 * Math.abs(want.values[i]!),
                );
              });
            } else {
              expect(values, key).toEqual(wantValues);
            }
          }
        } finally {
          await session.release();
        }
      });
    }
  }
});

describe('SavedModels TensorFlow wrote that need ops ONNX conversion leaves out', () => {
  it('keras_lstm: the While loop is refused in one line naming op, node and function', async () => {
    const err = await convertSavedModelToOnnx(join(DIR, 'keras_lstm')).catch((e) => e);
    expect(err.code).toBe('FERRY_TF2ONNX_UNSUPPORTED_OP');
    expect(err.message).toMatch(
      /: op (StatelessWhile|While|TensorList\w+) \(node \S+lstm\S+ in __inference_\S+\) has no ONNX conversion: control flow \(loops, their TensorLists: RNNs\) is not converted$/,
    );
  });
});
