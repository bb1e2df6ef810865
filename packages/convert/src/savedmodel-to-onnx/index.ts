export {
  type ConvertOptions,
  convertMetaGraph,
  convertSavedModelToOnnx,
  convertSavedModelToOnnxModel,
  emitOnnx,
  ONNX_OPSET,
  prepareGraph,
} from './convert.js';
export { type OpCoverage, opCoverage, savedModelOpCoverage } from './op-coverage.js';
export { DEFAULT_SIGNATURE, DEFAULT_TAG, selectMetaGraph } from './select.js';
