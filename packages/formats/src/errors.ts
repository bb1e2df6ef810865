/**
 * Every error @ferry/formats raises, in one table (the fastify lib/errors.js pattern).
 * A code names the rule that was broken; the template names the file, field or offset.
 * `permanent` errors are bad input (retrying changes nothing); transient ones are I/O.
 * `http` is the status the error maps to where it crosses HTTP (registry uploads, serve loads).
 * Every code is documented in docs/errors.md (a test checks it).
 *
 * Each format keeps its codes in its own section below, so the sections grow independently.
 */
export interface ErrorSpec {
  /** Template; `{name}` is replaced by the parameter of that name. */
  readonly message: string;
  readonly http: number;
  readonly permanent: boolean;
}

const bad = (message: string): ErrorSpec => ({ message, http: 400, permanent: true });
const io = (message: string): ErrorSpec => ({ message, http: 500, permanent: false });

export const ERRORS = {
  // --- general ---
  FERRY_IO: io('{path}: cannot read: {reason}'),
  FERRY_WRITE: io('{path}: cannot write: {reason}'),
  FERRY_NOT_FOUND: bad('{path}: no such file or folder'),
  FERRY_UNKNOWN_FORMAT: bad('{path}: not a model file ferry recognises ({reason})'),
  FERRY_UNSUPPORTED: bad('{path}: {what} is not supported: {reason}'),
  FERRY_TRUNCATED: bad('{path}: {what} at byte {offset} runs past the end of the data ({size} bytes)'),
  FERRY_LIMIT: bad('{path}: {what} is {value}, over the limit of {limit} ({reason})'),
  FERRY_BAD_ARGUMENT: bad('{what}: {reason}'),
  FERRY_PATH_ESCAPE: bad('{path}: {what} escapes the model folder ({reason})'),

  // --- tensor ---
  FERRY_TENSOR_DTYPE: bad('{path}: tensor {tensor}: unknown dtype {dtype}'),
  FERRY_TENSOR_SHAPE: bad('{path}: tensor {tensor}: {reason}'),
  FERRY_TENSOR_MISSING: bad('{path}: no tensor named {tensor}'),

  // --- protobuf ---
  FERRY_PROTOBUF_WIRE: bad('{path}: protobuf {message} at byte {offset}: {reason}'),

  // --- zip ---
  FERRY_ZIP_STRUCTURE: bad('{path}: zip {what}: {reason}'),

  // --- safetensors ---

  // --- onnx ---
  FERRY_ONNX_NOT_MODEL: bad('{path}: not an ONNX model: {reason}'),
  FERRY_ONNX_TENSOR_DATA: bad('{path}: tensor {tensor}: {rule}'),
  FERRY_ONNX_EXTERNAL_PATH: bad(
    '{path}: tensor {tensor}: external data location "{location}" refused: {rule}',
  ),
  FERRY_ONNX_EXTERNAL_KEYS: bad('{path}: tensor {tensor}: external_data key "{key}": {rule}'),
  FERRY_ONNX_EXTERNAL_RANGE: bad('{path}: tensor {tensor}: external data in {location}: {rule}'),
  FERRY_ONNX_REPLACE_UNKNOWN: bad('{path}: replacement tensor {tensor} is not an initializer of the model'),
  FERRY_ONNX_REPLACE_MISSING: bad('{path}: initializer {tensor} has no replacement tensor'),
  FERRY_ONNX_REPLACE_DUPLICATE: bad('{path}: replacement tensor {tensor} is given more than once'),
  FERRY_ONNX_REPLACE_DTYPE: bad('{path}: initializer {tensor} is {expected}, the replacement is {actual}'),
  FERRY_ONNX_REPLACE_SHAPE: bad(
    '{path}: initializer {tensor} has shape {expected}, the replacement has {actual}',
  ),

  // --- savedmodel ---

  // --- gguf ---

  // --- numpy ---

  // --- pickle ---

  // --- convert / diff ---

  // --- optimize ---
  FERRY_QUANTIZE_ALREADY: bad('{path}: model is already quantized: node {node} is {op}'),
  FERRY_QUANTIZE_OPSET: bad(
    '{path}: {what} needs ai.onnx opset {needed} or later, the model imports {opset}',
  ),
  FERRY_FP16_ALREADY: bad('{path}: model is already float16 ({reason})'),
  FERRY_OPTIMIZE_RUNTIME: bad('{path}: onnxruntime cannot {what}: {reason}'),
  FERRY_OPTIMIZE_CHECK: bad('{path}: the {what} model fails the structural check: {rule}: {message}'),
  FERRY_OPTIMIZE_DATA: bad('{path}: {what}: {rule}'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;
export type ErrorParams = Record<string, string | number | bigint>;

/** The one error type @ferry/formats throws on bad input or failed I/O. */
export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly params: ErrorParams;
  readonly permanent: boolean;
  readonly http: number;

  constructor(code: ErrorCode, params: ErrorParams = {}, options?: { cause?: unknown }) {
    super(formatMessage(ERRORS[code].message, params), options);
    this.name = 'FerryError';
    this.code = code;
    this.params = params;
    this.permanent = ERRORS[code].permanent;
    this.http = ERRORS[code].http;
  }
}

function formatMessage(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    key in params ? String(params[key]) : whole,
  );
}

export function ferryError(code: ErrorCode, params: ErrorParams = {}, cause?: unknown): FerryError {
  return new FerryError(code, params, cause === undefined ? undefined : { cause });
}

export function isFerryError(value: unknown): value is FerryError {
  return value instanceof FerryError;
}
