export {
  type SklearnConversion,
  type SklearnSummary,
  convertSklearnToOnnx,
  MAX_XGBOOST_MODEL_BYTES,
} from './convert.js';
export { describeEstimator } from './describe.js';
export { SKLEARN_ML_OPSET, SKLEARN_OPSET } from './graph.js';
export { MAX_PIPELINE_DEPTH } from './pipeline.js';
export { MAX_POLYNOMIAL_TERMS } from './preprocessing.js';
export { MAX_ARRAY_ELEMENTS } from './state.js';
export { MAX_ENSEMBLE_NODES } from './tree.js';
export { MAX_UBJSON_DEPTH, parseUbjson } from './ubjson.js';
