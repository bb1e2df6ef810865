export {
  convertSklearnToOnnx,
  MAX_XGBOOST_MODEL_BYTES,
  type SklearnConversion,
  type SklearnSummary,
} from './convert.js';
export { SKLEARN_ML_OPSET, SKLEARN_OPSET } from './graph.js';
export { MAX_PIPELINE_DEPTH } from './pipeline.js';
export { MAX_POLYNOMIAL_TERMS } from './preprocessing.js';
export { MAX_ENSEMBLE_NODES } from './tree.js';
