/** @ferry/convert: model conversions that never run the model; each reads through @ferry/formats. */
export {
  type ConvertedModel,
  type Converter,
  CONVERTERS,
  type ConvertSource,
  type ConvertTarget,
  converterFor,
  detectSource,
  type ModelConverter,
  type ModelConvertOptions,
  ONNX_WEIGHTS,
  SAVEDMODEL_TO_ONNX,
  SKLEARN_TO_ONNX,
  TO_SAFETENSORS,
  type TensorsConverter,
  type WeightsConverter,
} from './converters.js';
export {
  CONVERT_ERRORS,
  ConvertError,
  type ConvertErrorCode,
  convertError,
  isConvertError,
} from './errors.js';
export { type ReplaceOptions, type ReplaceResult, replaceInitializers } from './replace-weights.js';
export {
  convertSavedModelToOnnx,
  convertSavedModelToOnnxModel,
  DEFAULT_SIGNATURE,
  DEFAULT_TAG,
  ONNX_OPSET,
  type OpCoverage,
  savedModelOpCoverage,
} from './savedmodel-to-onnx/index.js';
// The in-memory stages of SavedModel -> ONNX, for bench/suites/savedmodel-onnx.ts's generated graphs.
export { emitOnnx, prepareGraph } from './savedmodel-to-onnx/convert.js';
export type { FrozenValue } from './savedmodel-to-onnx/freeze.js';
export { convertSklearnToOnnx, type SklearnConversion, type SklearnSummary } from './sklearn/index.js';
export { type ConvertOptions, type ConvertResult, convertToSafetensors } from './to-safetensors.js';
