/**
 * @ferry/formats: read, check and convert model files without executing anything in them.
 * Public API only; everything else is internal.
 */

export { detectFormat, detectHandler, PROBE_HEAD_BYTES } from './detect.js';
// --- core ---
export { ERRORS, type ErrorCode, type ErrorSpec, FerryError, ferryError, isFerryError } from './errors.js';
export { FORMAT_HANDLERS } from './formats.js';
export { type InspectedTensor, type InspectReport, inspectModel } from './inspect.js';
export { writeAll, writeFileAtomic } from './io/atomic-write.js';
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
export { openModel } from './open.js';
export * as protobuf from './protobuf/index.js';
export * from './tensor/index.js';
export * as zip from './zip/index.js';

// --- safetensors ---

// --- onnx ---

// --- savedmodel ---

// --- gguf ---

// --- numpy ---

// --- pickle ---
export * as pickle from './pickle/index.js';
export { type ScanFileResult, scanPath } from './scan.js';

// --- convert / diff ---
