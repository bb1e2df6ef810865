/**
 * @ferry/formats: read, check and convert model files without executing anything in them.
 * Public API only; everything else is internal.
 */

// --- core ---
export {
  codeHasPrefix,
  type DefinedError,
  type DefinedErrorClass,
  type DefineErrorsOptions,
  defineErrors,
  ERRORS,
  type ErrorCode,
  type ErrorParams,
  type ErrorSpec,
  FerryError,
  FormatsError,
  ferryError,
  formatErrorMessage,
  isFerryError,
  isFormatsError,
} from './errors.js';
export * from './tensor/index.js';
export type {
  Finding,
  FormatHandler,
  FormatName,
  OpaqueTensor,
  OpenedModel,
  OpenOptions,
  Probe,
  Severity,
  Signature,
  TensorSpec,
} from './model.js';
export { FORMAT_HANDLERS } from './formats.js';
export { detectFormat, detectHandler, PROBE_HEAD_BYTES } from './detect.js';
export { openModel } from './open.js';
export { type InspectedTensor, type InspectReport, inspectModel } from './inspect.js';
export { writeAll, writeFileAtomic } from './io/atomic-write.js';
export { sha256File } from './io/hash-file.js';
export { STREAM_WRITE_BYTES, writeStreamToFile } from './io/stream-to-file.js';
export * as protobuf from './protobuf/index.js';
export * as zip from './zip/index.js';

// --- safetensors ---
export * as safetensors from './safetensors/index.js';
export {
  openSafetensors,
  readSafetensorsHeader,
  validateSafetensors,
  type WriteProgress,
  writeSafetensors,
} from './safetensors/index.js';

// --- onnx ---
export * as onnx from './onnx/index.js';

// --- savedmodel ---
export * as savedmodel from './savedmodel/index.js';

// --- gguf ---
export * as gguf from './gguf/index.js';

// --- numpy ---
export * as numpy from './numpy/index.js';

// --- pickle ---
export * as pickle from './pickle/index.js';
export { type ScanFileResult, scanPath } from './scan.js';
export { isUnsafeResult, type ScanFolderOptions, scanFile, scanPaths, worstVerdict } from './scan-folder.js';

// --- diff ---
export { type DiffOptions, type DiffReport, diffModels, type TensorDiff } from './diff.js';

// --- the op histogram @ferry/optimize reports before and after a transform ---
export { opHistogram as onnxOpHistogram } from './onnx/describe.js';
