export {
  type ConvertOptions,
  convertMetaGraph,
  convertSavedModelToOnnx,
  convertSavedModelToOnnxModel,
  emitOnnx,
  ONNX_OPSET,
  prepareGraph,
} from './convert.js';
export {
  graphDefOpCoverage,
  graphOpCoverage,
  type OpCoverage,
  opCoverage,
  savedModelOpCoverage,
} from './op-coverage.js';
export { DEFAULT_SIGNATURE, DEFAULT_TAG, selectMetaGraph } from './select.js';
export { convertGraphDefToOnnx, convertGraphDefToOnnxModel } from './graphdef.js';
export { GRAPHDEF_SIGNATURE, type GraphIoOptions, graphSignature } from './graph-signature.js';
