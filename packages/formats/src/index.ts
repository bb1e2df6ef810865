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
export * as onnx from './onnx/index.js';

// --- savedmodel ---

// --- gguf ---

// --- numpy ---

// --- pickle ---

// --- convert / diff ---

// --- optimize ---
export { opHistogram as onnxOpHistogram } from './onnx/describe.js';
export * as fp16 from './onnx/float16.js';
export * as quantize from './onnx/quantize/index.js';
