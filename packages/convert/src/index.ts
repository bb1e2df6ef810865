/** @ferry/convert: model conversions that never run the model; each reads through @ferry/formats. */
export {
  type ConvertedModel,
  converterFor,
  detectSource,
  type ModelConverter,
  ONNX_WEIGHTS,
  SAVEDMODEL_TO_ONNX,
  SKLEARN_TO_ONNX,
  TFGRAPH_TO_ONNX,
  TO_SAFETENSORS,
} from './converters.js';
export { CONVERT_ERRORS, convertError, isConvertError } from './errors.js';

export {
  convertSavedModelToOnnx,
  graphDefOpCoverage,
  savedModelOpCoverage,
} from './savedmodel-to-onnx/index.js';
// The in-memory stages of SavedModel -> ONNX, for bench/suites/savedmodel-onnx.ts's generated graphs.
export { emitOnnx, prepareGraph } from './savedmodel-to-onnx/convert.js';
export type { FrozenValue } from './savedmodel-to-onnx/freeze.js';
export { convertSklearnToOnnx } from './sklearn/index.js';
export { type ConvertResult, convertToSafetensors } from './to-safetensors.js';
