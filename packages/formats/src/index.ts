/**
 * @ferry/formats: read, check and convert model files without executing anything in them.
 * Public API only; everything else is internal.
 */

// --- core ---
export {
  codeHasPrefix,
  type DefinedError,
  type DefinedErrorClass,
  defineErrors,
  ERRORS,
  type ErrorParams,
  type ErrorSpec,
  FerryError,
  ferryError,
  isFerryError,
  isFormatsError,
} from './errors.js';
export {
  BufferSource,
  type ByteSource,
  DEFAULT_CHUNK_BYTES,
  type DType,
  DTYPE_TABLE,
  dtypeFromOnnx,
  dtypeFromProtocol,
  dtypeSize,
  FileSource,
  numel,
  readTensorBytes,
  readTensorChunks,
  type TensorRef,
} from './tensor/index.js';
export type { Finding, FormatHandler, FormatName, OpenedModel, OpenOptions } from './model.js';
export { FORMAT_HANDLERS } from './formats.js';
export { detectFormat } from './detect.js';
export { openModel } from './open.js';
export { type InspectReport, inspectModel } from './inspect.js';
export { moveIntoPlace, writeAll, writeFileAtomic } from './io/atomic-write.js';
export { sha256File } from './io/hash-file.js';
export { writeStreamToFile } from './io/stream-to-file.js';
export * as protobuf from './protobuf/index.js';
export * as zip from './zip/index.js';

// --- chunking: tensor-aligned, content-defined (the registry's dedup, issue #20) ---
export * as chunk from './chunk/index.js';

// --- safetensors ---
export {
  openSafetensors,
  validateSafetensors,
  type WriteProgress,
  writeSafetensors,
} from './safetensors/index.js';

// --- onnx ---
export * as onnx from './onnx/index.js';

// --- savedmodel ---
export * as savedmodel from './savedmodel/index.js';

// --- tfgraph (frozen GraphDef) ---
export * as tfgraph from './tfgraph/index.js';

// --- gguf ---
export * as gguf from './gguf/index.js';

// --- lightgbm ---
export * as lightgbm from './lightgbm/index.js';

// --- pickle ---
export * as pickle from './pickle/index.js';
export { type ScanFileResult, scanPath } from './scan.js';
export { isUnsafeResult, scanPaths, worstVerdict } from './scan-folder.js';
export { findingClass } from './finding-kinds.js';

// --- diff ---
export { type DiffReport, diffModels } from './diff.js';

// --- the op histogram @ferry/optimize reports before and after a transform ---
export { opHistogram as onnxOpHistogram } from './onnx/describe.js';
