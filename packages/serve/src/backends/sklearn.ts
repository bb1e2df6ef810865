import { SKLEARN_TO_ONNX } from '@ferry/convert';
import { convertingBackend } from './converting.js';

/**
 * Fitted scikit-learn, XGBoost and LightGBM estimators (joblib or pickle files, XGBoost's
 * JSON/UBJSON, LightGBM's text model: `model.lgb.txt` in a repository, any name served alone),
 * converted to ONNX-ML from the pickle machine's inert graph (nothing is unpickled or run), then
 * served by ONNX Runtime. Input `input` [N, n_features]; classifiers answer `label` and
 * `probabilities`, regressors `variable`.
 */
export const sklearnBackend = convertingBackend({
  name: 'sklearn',
  platform: 'sklearn_onnx',
  fileNames: ['model.joblib', 'model.pkl', 'model.xgb.json', 'model.ubj', 'model.lgb.txt'],
  converterVersion: 'sklearn-onnx-1',
  sourceRoot: (path) => path,
  convert: async (path) => (await SKLEARN_TO_ONNX.convert(path)).bytes,
});
