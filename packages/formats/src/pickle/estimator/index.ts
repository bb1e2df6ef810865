export { type LgbmBooster, readLgbmBooster } from './lightgbm-booster.js';
export { describeEstimator, MAX_DESCRIBED_ESTIMATORS } from './describe.js';
export {
  classOf,
  Estimator,
  type GraphSource,
  MAX_ARRAY_ELEMENTS,
  type NdArray,
  type RecordArray,
  scalarOf,
  shortName,
} from './state.js';
export { type Json, MAX_UBJSON_DEPTH, parseUbjson } from './ubjson.js';
export {
  arr as xgbArray,
  boosterBytes,
  num as xgbNumber,
  obj as xgbObject,
  readXgbModel,
  type XgbModel,
} from './xgboost-model.js';
