import { defineErrors, type ErrorSpec } from './define.js';

/**
 * Every error @ferry/formats raises, in one table (the fastify lib/errors.js pattern; define.ts
 * turns it into FormatsError, ferryError() and isFormatsError()). Its prefix is all of FERRY_:
 * formats' codes came first and kept their names; other packages' tables have their own prefixes.
 * Each format keeps its codes in its own section below, so the sections grow independently.
 */
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
  FERRY_SAFETENSORS_HEADER_TOO_SMALL: bad(
    '{path}: {size} bytes is too small for a safetensors file (the first 8 bytes are the header length)',
  ),
  FERRY_SAFETENSORS_HEADER_TOO_LARGE: bad(
    '{path}: header length {length} is over the limit of {limit} bytes (MAX_HEADER_SIZE, CWE-770)',
  ),
  FERRY_SAFETENSORS_HEADER_LENGTH: bad(
    '{path}: header length {length} runs past the end of the file ({size} bytes)',
  ),
  FERRY_SAFETENSORS_HEADER_UTF8: bad('{path}: the header is not valid UTF-8 ({reason})'),
  FERRY_SAFETENSORS_HEADER_START: bad(
    "{path}: the header must be a JSON object starting with '{' at byte 8, found {found}",
  ),
  FERRY_SAFETENSORS_HEADER_JSON: bad('{path}: the header is not valid JSON: {reason}'),
  FERRY_SAFETENSORS_DUPLICATE_KEY: bad(
    '{path}: header key {key} appears twice in {where} (character {offset}); a reader keeping either one would be wrong',
  ),
  FERRY_SAFETENSORS_METADATA: bad('{path}: __metadata__ must map strings to strings: {reason}'),
  FERRY_SAFETENSORS_TENSOR_INFO: bad(
    '{path}: tensor {tensor}: {field} {reason} (each tensor is {"dtype", "shape", "data_offsets"})',
  ),
  FERRY_SAFETENSORS_DTYPE: bad('{path}: tensor {tensor}: dtype {dtype} is not one ferry reads'),
  FERRY_SAFETENSORS_OFFSET_ORDER: bad(
    '{path}: tensor {tensor}: data_offsets [{begin}, {end}] end before they begin',
  ),
  FERRY_SAFETENSORS_OFFSET_GAP: bad(
    '{path}: tensor {tensor}: data_offsets [{begin}, {end}] leave a hole: the previous tensor ends at {expected} (offsets must be contiguous from 0)',
  ),
  FERRY_SAFETENSORS_OFFSET_OVERLAP: bad(
    '{path}: tensor {tensor}: data_offsets [{begin}, {end}] overlap the previous tensor, which ends at {expected}',
  ),
  FERRY_SAFETENSORS_OVERFLOW: bad('{path}: tensor {tensor}: shape {shape} x {dtype} overflows 64 bits'),
  FERRY_SAFETENSORS_BYTE_LENGTH: bad(
    '{path}: tensor {tensor}: data_offsets [{begin}, {end}] hold {actual} bytes, but shape {shape} x {dtype} needs {expected}',
  ),
  FERRY_SAFETENSORS_BUFFER_END: bad(
    '{path}: the tensors end at byte {expected}, but the file is {size} bytes (the data must end exactly at EOF)',
  ),

  FERRY_SAFETENSORS_WRITE_LENGTH: bad(
    '{path}: tensor {tensor}: its source gave {actual} bytes where shape and dtype need {expected}',
  ),

  // --- onnx ---
  FERRY_ONNX_NOT_MODEL: bad('{path}: not an ONNX model: {reason}'),
  FERRY_ONNX_TENSOR_DATA: bad('{path}: tensor {tensor}: {rule}'),
  FERRY_ONNX_EXTERNAL_PATH: bad(
    '{path}: tensor {tensor}: external data location "{location}" refused: {rule}',
  ),
  FERRY_ONNX_EXTERNAL_KEYS: bad('{path}: tensor {tensor}: external_data key "{key}": {rule}'),
  FERRY_ONNX_EXTERNAL_RANGE: bad('{path}: tensor {tensor}: external data in {location}: {rule}'),

  // --- savedmodel ---
  FERRY_SAVEDMODEL_STRUCTURE: bad('{path}: {what}: {reason}'),
  FERRY_SSTABLE_STRUCTURE: bad('{path}: table {what} at byte {offset}: {reason}'),
  FERRY_SAVEDMODEL_CHECKSUM: bad(
    '{path}: {what} at byte {offset}: crc32c {actual} does not match the stored {expected}',
  ),
  FERRY_BUNDLE_ENTRY: bad('{path}: variable {tensor}: {reason}'),

  // --- tfgraph (frozen GraphDef) ---
  FERRY_TFGRAPH_STRUCTURE: bad('{path}: {what}: {reason}'),

  // --- gguf ---
  FERRY_GGUF_STRUCTURE: bad('{path}: GGUF {what} at byte {offset}: {reason}'),
  FERRY_GGUF_TENSOR: bad('{path}: GGUF tensor {tensor}: {reason}'),
  FERRY_GGUF_TEXT_MANGLED: bad(
    '{path}: not a readable GGUF: {what} at byte {offset} holds EF BF BD (U+FFFD) and the header breaks after it ({cause}): the file was decoded as UTF-8 text and written back, which replaced every non-UTF-8 byte for good; get the original file',
  ),

  // --- numpy ---
  FERRY_NPY_HEADER: bad('{path}: npy header at byte {offset}: {reason}'),
  FERRY_NPY_DESCR: bad('{path}: npy header at byte {offset}: descr {descr} is not interpreted: {reason}'),
  FERRY_NPZ_MEMBER: bad('{path}: npz member {member}: {reason}'),

  // --- compression (joblib's zlib, gzip, bz2, lzma, xz, lz4 streams) ---
  FERRY_COMPRESSED_STREAM: bad('{path}: {format} stream at byte {offset}: {reason}'),
  FERRY_COMPRESSED_TRUNCATED: bad(
    '{path}: {format} stream ends at byte {offset} before its end ({what} is missing)',
  ),
  FERRY_COMPRESSED_CHECKSUM: bad(
    '{path}: {format} {what} check at byte {offset} is {stored}, the data gives {computed}',
  ),

  // --- pickle ---
  FERRY_PICKLE_OPCODE: bad('{path}: pickle byte {offset}: unknown opcode {opcode}'),
  FERRY_PICKLE_PROTOCOL: bad('{path}: pickle byte {offset}: protocol {protocol} is not one of 0-5'),
  FERRY_PICKLE_TRUNCATED: bad('{path}: pickle byte {offset}: {what} needs {need} bytes but {left} remain'),
  FERRY_PICKLE_STACK: bad('{path}: pickle byte {offset}: {opcode}: {reason}'),
  FERRY_PICKLE_MEMO: bad('{path}: pickle byte {offset}: {opcode}: memo key {key} was never stored'),
  FERRY_PICKLE_VALUE: bad('{path}: pickle byte {offset}: {opcode}: {reason}'),
  FERRY_PICKLE_LIMIT: bad(
    '{path}: pickle byte {offset}: {what} is {value}, over the limit of {limit} ({reason})',
  ),
  FERRY_PICKLE_REFUSED: {
    message:
      '{path}: refused: {count} unsafe construct(s) in the pickle, first: {first}; `ferry scan` lists them, --unsafe-inspect shows the file anyway (nothing is executed either way)',
    http: 422,
    permanent: true,
  },
  FERRY_PICKLE_STRUCTURE: bad('{path}: {what}: {reason}'),

  // --- sklearn ---
  FERRY_SKLEARN_UNSUPPORTED: bad('{path}: {class}.{attribute}: not converted to ONNX: {reason}'),
  FERRY_SKLEARN_STATE: bad('{path}: {class}.{attribute}: {reason}'),
  FERRY_XGBOOST_MODEL: bad('{path}: XGBoost model {what}: {reason}'),

  // --- lightgbm ---
  FERRY_LIGHTGBM_MODEL: bad('{path}: LightGBM model {what}: {reason}'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

const formats = defineErrors('FERRY_', ERRORS, { name: 'FerryError' });

/** The error @ferry/formats throws on bad input or failed I/O (a FerryError with a formats code). */
export const FormatsError = formats.ErrorClass;
export type FormatsError = InstanceType<typeof FormatsError>;
export const ferryError = formats.create;
/** True only for formats' own errors; `isFerryError` holds for any package's. */
export const isFormatsError = formats.is;
