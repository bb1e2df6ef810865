import { ferryError } from '../errors.js';
import { DTYPE_TABLE, type DType, isDType } from '../tensor/dtype.js';
import { JsonDuplicateKeyError, JsonSyntaxError, type JsonValue, parseJson } from './json.js';

/**
 * The rules of the reference reader (huggingface/safetensors `safetensors/src/tensor.rs`:
 * `read_metadata` and `Metadata::validate`), enforced on a header already in memory.
 */

/** The reference's MAX_HEADER_SIZE: a larger header is refused before it is read (CWE-770). */
export const MAX_HEADER_SIZE = 100_000_000;
/** The header length is a little-endian u64 in the first 8 bytes. */
export const HEADER_LENGTH_BYTES = 8;
/** Offsets, shapes and byte counts are u64 (`usize`) in the reference: more overflows. */
const U64_MAX = (1n << 64n) - 1n;

export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Offsets relative to the start of the data (just after the header). */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  /** The header's JSON length in bytes (padding included). */
  readonly headerLength: number;
  /** Where tensor data starts in the file: 8 + headerLength. */
  readonly dataStart: number;
  /** `__metadata__`, or empty when absent or null. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensors in file order (sorted by data_offsets, as the reference reader sorts them). */
  readonly tensors: readonly SafetensorsEntry[];
}

/**
 * Checks the 8-byte length prefix against the file size, before anything is allocated.
 * Returns the header length.
 */
export function checkHeaderLength(path: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < HEADER_LENGTH_BYTES || prefix.length < HEADER_LENGTH_BYTES) {
    throw ferryError('FERRY_SAFETENSORS_HEADER_TOO_SMALL', { path, size: fileSize });
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, HEADER_LENGTH_BYTES);
  const length = view.getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_SIZE)) {
    throw ferryError('FERRY_SAFETENSORS_HEADER_TOO_LARGE', { path, length, limit: MAX_HEADER_SIZE });
  }
  const n = Number(length);
  if (HEADER_LENGTH_BYTES + n > fileSize) {
    throw ferryError('FERRY_SAFETENSORS_HEADER_LENGTH', { path, length: n, size: fileSize });
  }
  return n;
}

/** Parses and validates the header bytes (the `headerLength` bytes after the prefix). */
export function parseHeader(path: string, headerBytes: Uint8Array, fileSize: number): SafetensorsHeader {
  const headerLength = headerBytes.length;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch (error) {
    throw ferryError('FERRY_SAFETENSORS_HEADER_UTF8', { path, reason: (error as Error).message }, error);
  }
  // The reference planned this check for 0.4 (`InvalidHeaderStart`); every writer emits '{' first,
  // and it keeps a leading BOM or whitespace from hiding what the file is.
  if (text[0] !== '{') {
    throw ferryError('FERRY_SAFETENSORS_HEADER_START', {
      path,
      found: text.length === 0 ? 'an empty header' : JSON.stringify(text[0]),
    });
  }
  // Valid JSON that starts with '{' is an object.
  const root = parseHeaderJson(path, text) as Map<string, JsonValue>;

  let metadata: Record<string, string> = {};
  const entries: {
    name: string;
    dtype: DType;
    shape: number[];
    shapeBig: bigint[];
    begin: bigint;
    end: bigint;
  }[] = [];
  for (const [name, value] of root) {
    if (name === '__metadata__') {
      metadata = readMetadata(path, value);
      continue;
    }
    entries.push(readEntry(path, name, value));
  }

  // The reference sorts by (begin, end) before validating: files may list tensors in any order.
  entries.sort((a, b) => compareBig(a.begin, b.begin) || compareBig(a.end, b.end));
  let expected = 0n;
  for (const entry of entries) {
    // Error parameters are built only for an error: per tensor they cost more than the checks.
    const params = () => ({ path, tensor: entry.name, begin: entry.begin, end: entry.end, expected });
    if (entry.begin > expected) throw ferryError('FERRY_SAFETENSORS_OFFSET_GAP', params());
    if (entry.begin < expected) throw ferryError('FERRY_SAFETENSORS_OFFSET_OVERLAP', params());
    if (entry.end < entry.begin) throw ferryError('FERRY_SAFETENSORS_OFFSET_ORDER', params());
    const shape = () => JSON.stringify(entry.shapeBig.map(String)).replaceAll('"', '');
    // Left to right with a check at every step, like the reference's checked_mul fold.
    let count = 1n;
    for (const dim of entry.shapeBig) {
      count *= dim;
      if (count > U64_MAX) {
        throw ferryError('FERRY_SAFETENSORS_OVERFLOW', {
          path,
          tensor: entry.name,
          shape: shape(),
          dtype: entry.dtype,
        });
      }
    }
    const bytes = count * BigInt(DTYPE_TABLE[entry.dtype].size);
    if (bytes > U64_MAX) {
      throw ferryError('FERRY_SAFETENSORS_OVERFLOW', {
        path,
        tensor: entry.name,
        shape: shape(),
        dtype: entry.dtype,
      });
    }
    if (entry.end - entry.begin !== bytes) {
      throw ferryError('FERRY_SAFETENSORS_BYTE_LENGTH', {
        ...params(),
        actual: entry.end - entry.begin,
        shape: shape(),
        dtype: entry.dtype,
        expected: bytes,
      });
    }
    expected = entry.end;
  }
  const dataStart = HEADER_LENGTH_BYTES + headerLength;
  if (BigInt(dataStart) + expected !== BigInt(fileSize)) {
    throw ferryError('FERRY_SAFETENSORS_BUFFER_END', {
      path,
      expected: BigInt(dataStart) + expected,
      size: fileSize,
    });
  }
  // Every offset is now at most the file size, so Number is exact from here on.
  const tensors = entries.map((e) => ({
    name: e.name,
    dtype: e.dtype,
    shape: e.shape,
    begin: Number(e.begin),
    end: Number(e.end),
  }));
  return { headerLength, dataStart, metadata, tensors };
}

function parseHeaderJson(path: string, text: string): JsonValue {
  try {
    return parseJson(text);
  } catch (error) {
    if (error instanceof JsonDuplicateKeyError) {
      throw ferryError(
        'FERRY_SAFETENSORS_DUPLICATE_KEY',
        {
          path,
          key: JSON.stringify(error.key),
          where:
            error.parents.length === 0
              ? 'the header'
              : `the header's ${error.parents.map((p) => JSON.stringify(p)).join(' > ')}`,
          offset: error.offset,
        },
        error,
      );
    }
    if (error instanceof JsonSyntaxError) {
      throw ferryError('FERRY_SAFETENSORS_HEADER_JSON', { path, reason: error.message }, error);
    }
    throw error;
  }
}

function readMetadata(path: string, value: JsonValue): Record<string, string> {
  // serde reads `Option<HashMap<String, String>>`: null is the same as absent.
  if (value === null) return {};
  if (!(value instanceof Map)) {
    throw ferryError('FERRY_SAFETENSORS_METADATA', {
      path,
      reason: `it is ${describe(value)}, not an object`,
    });
  }
  const out: Record<string, string> = Object.create(null);
  for (const [key, item] of value) {
    if (typeof item !== 'string') {
      throw ferryError('FERRY_SAFETENSORS_METADATA', {
        path,
        reason: `the value of ${JSON.stringify(key)} is ${describe(item)}`,
      });
    }
    out[key] = item;
  }
  return { ...out };
}

function readEntry(path: string, name: string, value: JsonValue) {
  const bad = (field: string, reason: string) =>
    ferryError('FERRY_SAFETENSORS_TENSOR_INFO', { path, tensor: JSON.stringify(name), field, reason });
  if (!(value instanceof Map)) throw bad('the entry', `is ${describe(value)}, not an object`);
  // Unknown fields are ignored, as serde's derived Deserialize for TensorInfo ignores them.
  const dtype = value.get('dtype');
  if (dtype === undefined) throw bad('dtype', 'is missing');
  if (typeof dtype !== 'string') throw bad('dtype', `is ${describe(dtype)}, not a string`);
  if (!isDType(dtype)) {
    throw ferryError('FERRY_SAFETENSORS_DTYPE', {
      path,
      tensor: JSON.stringify(name),
      dtype: JSON.stringify(dtype),
    });
  }
  const shapeValue = value.get('shape');
  if (shapeValue === undefined) throw bad('shape', 'is missing');
  if (!Array.isArray(shapeValue)) throw bad('shape', `is ${describe(shapeValue)}, not an array`);
  const shapeBig = shapeValue.map((dim, i) => unsigned(dim, () => bad(`shape[${i}]`, `is ${describe(dim)}`)));
  const offsets = value.get('data_offsets');
  if (offsets === undefined) throw bad('data_offsets', 'is missing');
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw bad('data_offsets', `is ${describe(offsets)}, not an array of two offsets`);
  }
  const [begin, end] = offsets.map((o, i) =>
    unsigned(o, () => bad(`data_offsets[${i}]`, `is ${describe(o)}`)),
  ) as [bigint, bigint];
  // Dimensions beyond 2^53 cannot be valid here (the byte-length check fails first), so a
  // lossy Number is only ever seen in error messages.
  return { name, dtype, shape: shapeBig.map(Number), shapeBig, begin, end };
}

/** A JSON integer in 0..2^64-1, as serde's `usize` accepts (no fraction, no exponent, no sign). */
function unsigned(value: JsonValue, error: () => Error): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) throw error();
  return value;
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function describe(value: JsonValue | undefined): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (value instanceof Map) return 'an object';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'bigint') return `the integer ${value}`;
  if (typeof value === 'number') return `the number ${value}`;
  return `the boolean ${value}`;
}
