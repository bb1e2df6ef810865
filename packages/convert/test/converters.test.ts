import { fileURLToPath } from 'node:url';
import { FORMAT_HANDLERS } from '@ferry/formats';
import { describe, expect, it } from 'vitest';
import {
  CONVERTERS,
  converterFor,
  detectSource,
  ONNX_WEIGHTS,
  SAVEDMODEL_TO_ONNX,
  SKLEARN_TO_ONNX,
  TO_SAFETENSORS,
} from '../src/converters.js';

const fixture = (path: string) => fileURLToPath(new URL(`../../../fixtures/${path}`, import.meta.url));
const SHARED = fileURLToPath(new URL('../../../../shared/fixtures/savedmodel/', import.meta.url));

describe('the converter table', () => {
  it('names each converter once, with a description', () => {
    expect(new Set(CONVERTERS.map((c) => c.name)).size).toBe(CONVERTERS.length);
    for (const c of CONVERTERS) expect(c.description.length).toBeGreaterThan(20);
  });

  it('picks ONNX converters for SavedModels and estimators, safetensors for every readable format', () => {
    expect(converterFor('savedmodel', 'onnx')).toBe(SAVEDMODEL_TO_ONNX);
    for (const source of ['pickle', 'joblib', 'xgboost', 'lightgbm'] as const) {
      expect(converterFor(source, 'onnx')).toBe(SKLEARN_TO_ONNX);
    }
    expect(converterFor('gguf', 'onnx')).toBeUndefined();
    // A LightGBM text model holds trees, not tensors: no safetensors conversion.
    for (const { name } of FORMAT_HANDLERS)
      expect(converterFor(name, 'safetensors')).toBe(name === 'lightgbm' ? undefined : TO_SAFETENSORS);
    // --weights is chosen by its option, never by format: a plain conversion of ONNX is not it
    expect(converterFor('onnx', 'onnx')).not.toBe(ONNX_WEIGHTS);
  });
});

describe('detectSource', () => {
  it.each([
    ['sklearn/xgb_binary.xgb.json', 'xgboost'],
    ['sklearn/xgb_binary.ubj', 'xgboost'],
    ['sklearn/ridge_protocol2.pkl', 'pickle'],
    ['lightgbm/wild_lg_rf_iris.txt', 'lightgbm'],
    ['safetensors/all_dtypes.safetensors', 'safetensors'],
  ])('%s is %s', async (path, source) => {
    expect(await detectSource(fixture(path))).toBe(source);
  });

  it('a SavedModel folder is savedmodel', async () => {
    expect(await detectSource(`${SHARED}saved_model_half_plus_two_cpu/00000123`)).toBe('savedmodel');
  });

  it("hands any other '{' file to the XGBoost reader, and keeps formats' errors for the rest", async () => {
    await expect(detectSource(fixture('sklearn/column_transformer.json'))).resolves.toBe('xgboost');
    await expect(detectSource(fileURLToPath(import.meta.url))).rejects.toMatchObject({
      code: 'FERRY_UNKNOWN_FORMAT',
    });
    await expect(detectSource(fixture('no/such/file'))).rejects.toMatchObject({ code: 'FERRY_NOT_FOUND' });
  });
});
