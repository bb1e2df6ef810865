import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../onnx/check.js';
import { decodeModel } from '../../onnx/codec.js';
import { convertSavedModelToOnnx } from './convert.js';

/**
 * SavedModels TensorFlow 2.21 wrote (fixtures/make/savedmodel_onnx.py: Keras 3 CNN and text
 * models, a tf.Module of array ops, a TF1 SavedModelBuilder graph) with the outputs TensorFlow
 * computed: the converted ONNX model must give the same in onnxruntime-node.
 */
const DIR = join(import.meta.dirname, '../../../../../fixtures/savedmodel-onnx');

interface Recorded {
  readonly dtype: string;
  readonly dims: number[];
  readonly values: number[];
}
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
            const values = Array.from(t!.data as ArrayLike<number | bigint>, Number);
            if (want.dtype.startsWith('float')) {
              values.forEach((v, i) => {
                expect(Math.abs(v - want.values[i]!), `${key}[${i}]: ${v} vs ${want.values[i]}`).toBeLessThan(
                  1e-4 + 1e-4 * Math.abs(want.values[i]!),
                );
              });
            } else {
              expect(values, key).toEqual(want.values);
            }
          }
        } finally {
          await session.release();
        }
      });
    }
  }
});
