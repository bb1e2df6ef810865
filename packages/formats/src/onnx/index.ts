export { type CheckProblem, checkModel } from './check.js';
export { decodeModel, encodeModel, encodeModelChunks } from './codec.js';
export { looksLikeOnnx } from './detect.js';
export { checkLocationSyntax, type ExternalDataInfo, parseExternalData } from './external-data.js';
export { type LoadedOnnx, loadOnnx, onnxHandler } from './handler.js';
export {
  MAX_ONNX_EXTERNAL_FILES,
  MAX_ONNX_LOCATION_LENGTH,
  MAX_ONNX_MODEL_BYTES,
  MAX_ONNX_TENSOR_RANK,
  ONNX_EXTERNAL_ALIGNMENT,
} from './limits.js';
export { onnxTypeName, tensorDims } from './tensors.js';
export type * from './schema.js';
export * as schema from './schema.js';
