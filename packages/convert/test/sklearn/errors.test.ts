import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isFerryError } from '../../src/formats.js';
import { convertSklearnToOnnx } from '../../src/sklearn/convert.js';
import { floorFloat32 } from '../../src/sklearn/graph.js';
import { isConvertError } from '../../src/errors.js';

const DIR = join(import.meta.dirname, '../../../../fixtures/sklearn');

async function failure(name: string) {
  try {
    await convertSklearnToOnnx(join(DIR, name));
  } catch (error) {
    if (isFerryError(error) || isConvertError(error)) return error;
    throw error;
  }
  throw new Error(`${name} converted`);
}

describe('what is not converted fails with one line naming the class and the attribute', () => {
  it('a class with no conversion (SVC)', async () => {
    const e = await failure('unsupported_svc.joblib');
    expect(e.code).toBe('FERRY_SKLEARN_UNSUPPORTED');
    expect(e.message).toMatch(
      /unsupported_svc\.joblib: SVC\.\(class\): not converted to ONNX: sklearn\.svm\._classes\.SVC/,
    );
    expect(e.message).not.toContain('\n');
  });
  it('a loss with a non-identity link (poisson)', async () => {
    const e = await failure('unsupported_hgb_poisson.joblib');
    expect(e.message).toMatch(/HistGradientBoostingRegressor\.loss: not converted to ONNX: poisson/);
  });
  it('categorical splits', async () => {
    const e = await failure('unsupported_hgb_categorical.joblib');
    expect(e.message).toMatch(
      /HistGradientBoostingClassifier\.is_categorical_: not converted to ONNX: categorical splits/,
    );
  });
  it('a pickle that is not an estimator', async () => {
    const e = await failure('unsupported_list.joblib');
    expect(e.code).toBe('FERRY_SKLEARN_NOT_ESTIMATOR');
  });
  it('pipelines nested deeper than MAX_PIPELINE_DEPTH', async () => {
    const e = await failure('unsupported_deep_pipeline.joblib');
    expect(e.code).toBe('FERRY_LIMIT');
    expect(e.message).toMatch(/pipeline nesting is 33, over the limit of 32/);
  });
  it('a file that is not there', async () => {
    expect((await failure('nope.joblib')).code).toBe('FERRY_NOT_FOUND');
  });
});

describe('floorFloat32: float64 thresholds as float32 without changing any branch', () => {
  it('is the largest float32 at or below t', () => {
    for (const t of [0.1, -0.1, 2.5, 1e-30, -1e-30, 0.7999999999999999, 123456.789, 5e-324, -5e-324]) {
      const f = floorFloat32(t);
      expect(Math.fround(f)).toBe(f);
      expect(f).toBeLessThanOrEqual(t);
      // The next float32 up is above t: no float32 x lies in (f, t].
      const view = new DataView(new ArrayBuffer(4));
      view.setFloat32(0, f);
      const bits = view.getUint32(0);
      view.setUint32(0, f > 0 || Object.is(f, 0) ? bits + 1 : f === 0 ? 1 : bits - 1);
      expect(view.getFloat32(0)).toBeGreaterThan(t);
    }
  });
  it('sklearn splits at a midpoint that rounds up in float32: x equal to that float32 still goes right', () => {
    // 0.1 as float32 is 0.100000001490116...; a float64 threshold of 0.1 must send it right (x > t).
    const x = Math.fround(0.1);
    expect(x > 0.1).toBe(true);
    expect(x <= floorFloat32(0.1)).toBe(false);
    const nearest = Math.fround(0.1);
    expect(x <= nearest).toBe(true); // rounding the threshold to nearest would send it left
  });
});
