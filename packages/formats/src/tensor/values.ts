import { ferryError } from '../errors.js';
import { type DType, dtypeSize } from './dtype.js';

/**
 * Decodes dense little-endian bytes of any ferry dtype to float64 values, for comparing tensors
 * (diff) and for handing values to clients. C64 gives two values per element (re, im
 * interleaved). 64-bit integers beyond 2^53 lose precision, as any float64 does.
 */
export function decodeValues(dtype: DType, bytes: Uint8Array): Float64Array {
  const size = dtypeSize(dtype);
  if (bytes.length % size !== 0) {
    throw ferryError('FERRY_TENSOR_SHAPE', {
      path: '<values>',
      tensor: '',
      reason: `${bytes.length} bytes is not a whole number of ${dtype} elements`,
    });
  }
  const count = bytes.length / size;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(dtype === 'C64' ? count * 2 : count);
  switch (dtype) {
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = bytes[i] === 0 ? 0 : 1;
      break;
    case 'U8':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      break;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case 'U16':
      for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true);
      break;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      break;
    case 'U32':
      for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true);
      break;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case 'U64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigUint64(i * 8, true));
      break;
    case 'I64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = f16ToNumber(view.getUint16(i * 2, true));
      break;
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const scratch = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        scratch.setUint32(0, view.getUint16(i * 2, true) << 16, true);
        out[i] = scratch.getFloat32(0, true);
      }
      break;
    }
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'C64':
      for (let i = 0; i < count * 2; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F8_E4M3':
      for (let i = 0; i < count; i++) out[i] = f8e4m3fnToNumber(bytes[i]!);
      break;
    case 'F8_E5M2':
      for (let i = 0; i < count; i++) out[i] = f8e5m2ToNumber(bytes[i]!);
      break;
  }
  return out;
}

/** IEEE 754 binary16. */
export function f16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * float8 E4M3 "fn" (OCP FP8 spec, torch.float8_e4m3fn): bias 7, no infinities; only
 * S.1111.111 is NaN, so S.1111.110 = 448 is the largest finite value.
 */
export function f8e4m3fnToNumber(bits: number): number {
  const sign = bits & 0x80 ? -1 : 1;
  const exponent = (bits >> 3) & 0x0f;
  const mantissa = bits & 0x07;
  if (exponent === 0x0f && mantissa === 0x07) return Number.NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -9;
  return sign * (1 + mantissa / 8) * 2 ** (exponent - 7);
}

/** float8 E5M2 (OCP FP8 spec, torch.float8_e5m2): IEEE-like, bias 15, with infinities and NaNs. */
export function f8e5m2ToNumber(bits: number): number {
  const sign = bits & 0x80 ? -1 : 1;
  const exponent = (bits >> 2) & 0x1f;
  const mantissa = bits & 0x03;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -16;
  return sign * (1 + mantissa / 4) * 2 ** (exponent - 15);
}
