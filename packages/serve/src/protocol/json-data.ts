import { endianness } from 'node:os';
import { serveError } from '../errors.js';
import { MAX_JSON_DATA_DEPTH } from '../limits.js';
import { DATATYPE_SIZE, type Datatype, INTEGER_RANGE, type NumericDatatype } from '@ferry/serving-api';
import { bfloat16ToNumber, halfToNumber, numberToBfloat16, numberToHalf } from '../tensor/half.js';
import { elementCount, type Tensor } from '@ferry/serving-api';

/**
 * JSON `data` arrays <-> tensors (inference_rest.md "Tensor Data"): nested or flat, row-major.
 * 64-bit integers may also be decimal strings (a JSON number loses precision past 2^53);
 * floats may be the strings "NaN", "Infinity", "-Infinity" (JSON has no literal for them), and
 * the server writes them the same way. BYTES elements are UTF-8 strings.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * `data` as a flat row-major list. The spec allows data "in their nature multi-dimensional
 * representation, or as a flattened one-dimensional representation" (inference_rest.md "Tensor
 * Data"): nested data must follow the shape exactly, one level per dimension, so a ragged or
 * half-flattened array is refused rather than read in some order the client did not mean.
 */
export function flattenData(data: unknown, input: string, shape?: readonly number[]): unknown[] {
  if (!Array.isArray(data))
    throw serveError('FERRY_SERVE_INPUT', { input, reason: '"data" must be an array' });
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (value: unknown[], depth: number, at: string): void => {
    if (depth > MAX_JSON_DATA_DEPTH)
      throw serveError('FERRY_SERVE_INPUT', {
        input,
        reason: `"data" nests deeper than ${MAX_JSON_DATA_DEPTH} levels (limit against stack exhaustion, CWE-674)`,
      });
    if (shape && value.length !== shape[depth - 1])
      throw serveError('FERRY_SERVE_INPUT', {
        input,
        reason: `nested "data"${at} has ${value.length} items at depth ${depth - 1} but shape [${shape.join(', ')}] needs ${shape[depth - 1] ?? 'no deeper level'} (nested data must follow the shape, or be flat)`,
      });
    const leaf = shape !== undefined && depth === shape.length;
    value.forEach((item, k) => {
      if (Array.isArray(item)) {
        if (leaf)
          throw serveError('FERRY_SERVE_INPUT', {
            input,
            reason: `nested "data"${at}[${k}] is an array below the last dimension of shape [${shape.join(', ')}]`,
          });
        walk(item, depth + 1, `${at}[${k}]`);
      } else if (shape && !leaf)
        throw serveError('FERRY_SERVE_INPUT', {
          input,
          reason: `nested "data"${at}[${k}] is ${JSON.stringify(item)} where shape [${shape.join(', ')}] needs an array (nested data must follow the shape, or be flat)`,
        });
      else out.push(item);
    });
  };
  walk(data, 1, '');
  return out;
}

/**
 * Where the elements come from. JSON has no literal for infinity, so a JSON number that parsed
 * to one was a finite literal past 1.8e308 (refused); protobuf floats carry infinities as values.
 */
export type DataSource = 'json' | 'protobuf';

export function decodeJsonTensor(
  datatype: Datatype,
  shape: readonly number[],
  data: unknown,
  input: string,
  source: DataSource = 'json',
): Tensor {
  const values = flattenData(data, input, shape);
  const count = elementCount(shape);
  if (values.length !== count)
    throw serveError('FERRY_SERVE_INPUT', {
      input,
      reason: `"data" has ${values.length} elements but shape [${shape.join(', ')}] needs ${count}`,
    });
  if (datatype === 'BYTES') {
    const strings = values.map((value, i) => {
      if (typeof value !== 'string')
        throw serveError('FERRY_SERVE_INPUT', { input, reason: `element ${i} must be a string for BYTES` });
      return encoder.encode(value);
    });
    return { datatype, shape, strings };
  }
  const bytes = new Uint8Array(count * DATATYPE_SIZE[datatype]);
  const floats = floatView(datatype, bytes);
  if (!(floats && fillFloats(floats, values, FINITE_LIMIT[datatype as 'FP32' | 'FP64']))) {
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < count; i++) writeElement(view, datatype, i, values[i], input, source);
  }
  return { datatype, shape, bytes };
}

/**
 * FP32 and FP64 through a typed array: the common case, at a third of the CPU of a DataView write
 * per element (JSON requests of the small MLP spent more time here than in the model). Typed arrays
 * use the platform's byte order, so this holds only on little-endian machines; elsewhere, and for
 * anything but plain numbers ("NaN" strings, or a value that will be refused), the caller goes
 * element by element.
 */
const FLOAT_ARRAYS: Partial<Record<Datatype, Float32ArrayConstructor | Float64ArrayConstructor>> = {
  FP32: Float32Array,
  FP64: Float64Array,
};
const LITTLE_ENDIAN = endianness() === 'LE';

/** The bytes as FP32/FP64 elements in place, where the datatype, byte order and offset allow it. */
function floatView(datatype: Datatype, bytes: Uint8Array): Float32Array | Float64Array | undefined {
  const Floats = FLOAT_ARRAYS[datatype];
  if (!Floats || !LITTLE_ENDIAN || bytes.byteOffset % Floats.BYTES_PER_ELEMENT !== 0) return undefined;
  return new Floats(
    bytes.buffer as ArrayBuffer,
    bytes.byteOffset,
    bytes.byteLength / Floats.BYTES_PER_ELEMENT,
  );
}

/**
 * Magnitudes below which a double rounds to a finite float of the datatype: FP32's largest finite
 * value plus half an ulp, 2^128 - 2^103 (at the tie, round-to-nearest-even goes to infinity).
 */
const FINITE_LIMIT = { FP32: 2 ** 128 - 2 ** 103, FP64: Number.POSITIVE_INFINITY } as const;

/**
 * False at the first element this loop cannot write as it is: not a number, or one that is not
 * finite or would overflow the datatype (NaN fails the comparison); the element-by-element
 * path then refuses it or writes it. One comparison per element: ~0.2 ns of the loop's ~1-3 ns.
 */
function fillFloats(floats: Float32Array | Float64Array, values: readonly unknown[], limit: number): boolean {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== 'number' || !(Math.abs(value) < limit)) return false;
    floats[i] = value;
  }
  return true;
}

/** The largest finite value of each float datatype, for the overflow message. */
const LARGEST_FINITE: Readonly<Record<'FP16' | 'BF16' | 'FP32' | 'FP64', string>> = {
  FP16: '65504',
  BF16: '3.3895314e38',
  FP32: '3.4028235e38',
  FP64: '1.7976931348623157e308',
};

function writeElement(
  view: DataView,
  datatype: NumericDatatype,
  i: number,
  value: unknown,
  input: string,
  source: DataSource,
): void {
  const fail = (rule: string) =>
    serveError('FERRY_SERVE_INPUT', { input, reason: `element ${i} (${JSON.stringify(value)}) ${rule}` });
  switch (datatype) {
    case 'BOOL':
      if (typeof value !== 'boolean') throw fail('must be true or false for BOOL');
      view.setUint8(i, value ? 1 : 0);
      return;
    case 'FP16':
    case 'BF16':
    case 'FP32':
    case 'FP64': {
      const number = toFloat(value);
      if (number === undefined) throw fail(`must be a number for ${datatype}`);
      const overflow = `overflows ${datatype} (largest finite ${LARGEST_FINITE[datatype]}); send the string "Infinity" or "-Infinity" for an infinity`;
      if (source === 'json' && typeof value === 'number' && !Number.isFinite(value))
        throw serveError('FERRY_SERVE_INPUT', {
          input,
          reason: `element ${i} is a JSON number past 1.8e308 that ${overflow}`,
        });
      const finite = Number.isFinite(number);
      if (datatype === 'FP16') {
        const bits = numberToHalf(number);
        if (finite && (bits & 0x7fff) === 0x7c00) throw fail(overflow);
        view.setUint16(i * 2, bits, true);
      } else if (datatype === 'BF16') {
        const bits = numberToBfloat16(number);
        if (finite && (bits & 0x7fff) === 0x7f80) throw fail(overflow);
        view.setUint16(i * 2, bits, true);
      } else if (datatype === 'FP32') {
        if (finite && !Number.isFinite(Math.fround(number))) throw fail(overflow);
        view.setFloat32(i * 4, number, true);
      } else view.setFloat64(i * 8, number, true);
      return;
    }
    default: {
      const integer = toInteger(value, datatype === 'INT64' || datatype === 'UINT64');
      const range = INTEGER_RANGE[datatype]!;
      if (integer === undefined) throw fail(`must be an integer for ${datatype}`);
      if (integer < range[0] || integer > range[1])
        throw fail(`is outside ${datatype}'s range ${range[0]}..${range[1]}`);
      const n = Number(integer);
      if (datatype === 'UINT8') view.setUint8(i, n);
      else if (datatype === 'INT8') view.setInt8(i, n);
      else if (datatype === 'UINT16') view.setUint16(i * 2, n, true);
      else if (datatype === 'INT16') view.setInt16(i * 2, n, true);
      else if (datatype === 'UINT32') view.setUint32(i * 4, n, true);
      else if (datatype === 'INT32') view.setInt32(i * 4, n, true);
      else if (datatype === 'UINT64') view.setBigUint64(i * 8, integer, true);
      else view.setBigInt64(i * 8, integer, true);
    }
  }
}

function toFloat(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  return undefined;
}

/** Decimal strings only for 64-bit integers (past 2^53 JSON numbers round); "7" for UINT16 is refused. */
function toInteger(value: unknown, wide: boolean): bigint | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : undefined;
  if (wide && typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return BigInt(value);
  return undefined;
}

/** The tensor's elements as JSON array text (flat, row-major). */
export function encodeJsonData(tensor: Tensor): string {
  if (tensor.datatype === 'BYTES') return JSON.stringify(tensor.strings.map((s) => decoder.decode(s)));
  const { bytes, datatype } = tensor;
  const count = bytes.byteLength / DATATYPE_SIZE[datatype];
  const floats = floatView(datatype, bytes);
  // JSON.stringify writes finite numbers as String() does, in C++; NaN and the infinities,
  // which it would turn into null, take the element-by-element path
  if (floats?.every(Number.isFinite)) return JSON.stringify(Array.from(floats));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts = new Array<string>(count);
  for (let i = 0; i < count; i++) parts[i] = elementText(view, datatype, i);
  return `[${parts.join(',')}]`;
}

function floatText(value: number): string {
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? '"NaN"' : value > 0 ? '"Infinity"' : '"-Infinity"';
}

function elementText(view: DataView, datatype: NumericDatatype, i: number): string {
  switch (datatype) {
    case 'BOOL':
      return view.getUint8(i) ? 'true' : 'false';
    case 'UINT8':
      return String(view.getUint8(i));
    case 'INT8':
      return String(view.getInt8(i));
    case 'UINT16':
      return String(view.getUint16(i * 2, true));
    case 'INT16':
      return String(view.getInt16(i * 2, true));
    case 'UINT32':
      return String(view.getUint32(i * 4, true));
    case 'INT32':
      return String(view.getInt32(i * 4, true));
    // 64-bit integers are written as exact JSON numbers (digits), never rounded through a double
    case 'UINT64':
      return view.getBigUint64(i * 8, true).toString();
    case 'INT64':
      return view.getBigInt64(i * 8, true).toString();
    case 'FP16':
      return floatText(halfToNumber(view.getUint16(i * 2, true)));
    case 'BF16':
      return floatText(bfloat16ToNumber(view.getUint16(i * 2, true)));
    case 'FP32':
      return floatText(view.getFloat32(i * 4, true));
    case 'FP64':
      return floatText(view.getFloat64(i * 8, true));
  }
}
