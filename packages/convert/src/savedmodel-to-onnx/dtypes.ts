/**
 * TensorFlow DataType -> ONNX TensorProto.DataType, for the dtypes a signature can carry into
 * ONNX Runtime (types.proto, onnx.proto). `_REF` types (101..) are their base type.
 */
const TF_TO_ONNX: Readonly<Record<number, number>> = {
  1: 1, // float
  2: 11, // double
  3: 6, // int32
  4: 2, // uint8
  5: 5, // int16
  6: 3, // int8
  9: 7, // int64
  10: 9, // bool
  14: 16, // bfloat16
  17: 4, // uint16
  19: 10, // half
  22: 12, // uint32
  23: 13, // uint64
};

export const TF_FLOAT = 1;
export const TF_DOUBLE = 2;
export const TF_INT32 = 3;
export const TF_UINT8 = 4;
export const TF_INT64 = 9;
export const TF_BOOL = 10;
export const TF_HALF = 19;
export const TF_RESOURCE = 20;

export const baseDtype = (dtype: number): number => (dtype > 100 ? dtype - 100 : dtype);

export function onnxDtypeOf(tfDtype: number): number | undefined {
  return TF_TO_ONNX[baseDtype(tfDtype)];
}

export const isFloatDtype = (dtype: number): boolean => [1, 2, 14, 19].includes(baseDtype(dtype));

/** Bytes per element of the numeric dtypes above. */
export function tfDtypeBytes(dtype: number): number {
  switch (baseDtype(dtype)) {
    case 2:
    case 9:
    case 23:
      return 8;
    case 1:
    case 3:
    case 22:
      return 4;
    case 5:
    case 14:
    case 17:
    case 19:
      return 2;
    default:
      return 1;
  }
}

/** One value of a TensorFlow dtype as little-endian bytes (half and bfloat16 are not written). */
export function scalarBytes(dtype: number, value: number): Uint8Array {
  const out = new Uint8Array(tfDtypeBytes(dtype));
  const view = new DataView(out.buffer);
  switch (baseDtype(dtype)) {
    case 1:
      view.setFloat32(0, value, true);
      break;
    case 2:
      view.setFloat64(0, value, true);
      break;
    case 3:
      view.setInt32(0, value, true);
      break;
    case 9:
      view.setBigInt64(0, BigInt(Math.trunc(value)), true);
      break;
    case 22:
      view.setUint32(0, value, true);
      break;
    case 23:
      view.setBigUint64(0, BigInt(Math.trunc(value)), true);
      break;
    case 5:
      view.setInt16(0, value, true);
      break;
    case 17:
      view.setUint16(0, value, true);
      break;
    case 19:
      view.setUint16(0, float32ToHalf(value), true);
      break;
    case 14:
      view.setUint16(0, new Uint32Array(new Float32Array([value]).buffer)[0]! >>> 16, true);
      break;
    case 6:
      view.setInt8(0, value);
      break;
    default:
      out[0] = value & 0xff;
  }
  return out;
}

/** IEEE half from a number, rounding to nearest (enough for the constants 0, 1, 6 and friends). */
function float32ToHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | Math.round(mant / 0x2000);
}

/** A constant's integer values (int32/int64/uint8...), for attributes ONNX wants as numbers. */
export function readInts(dtype: number, bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = tfDtypeBytes(dtype);
  const out: number[] = [];
  for (let at = 0; at + size <= bytes.byteLength; at += size) {
    switch (baseDtype(dtype)) {
      case 3:
        out.push(view.getInt32(at, true));
        break;
      case 9:
        out.push(Number(view.getBigInt64(at, true)));
        break;
      case 1:
        out.push(view.getFloat32(at, true));
        break;
      case 2:
        out.push(view.getFloat64(at, true));
        break;
      case 5:
        out.push(view.getInt16(at, true));
        break;
      case 6:
        out.push(view.getInt8(at));
        break;
      default:
        out.push(size === 1 ? bytes[at]! : Number.NaN);
    }
  }
  return out;
}

export const DT_STRING_CODE = 7;
