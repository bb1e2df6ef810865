import { type DType, dtypeFromTf } from '../tensor/dtype.js';

/**
 * TensorFlow's DataType enum names (tensorflow/core/framework/types.proto), for reporting the
 * types ferry has no dtype for (DT_STRING, DT_RESOURCE, DT_VARIANT, quantized types).
 */
const TF_DTYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'DT_INVALID',
  1: 'DT_FLOAT',
  2: 'DT_DOUBLE',
  3: 'DT_INT32',
  4: 'DT_UINT8',
  5: 'DT_INT16',
  6: 'DT_INT8',
  7: 'DT_STRING',
  8: 'DT_COMPLEX64',
  9: 'DT_INT64',
  10: 'DT_BOOL',
  11: 'DT_QINT8',
  12: 'DT_QUINT8',
  13: 'DT_QINT32',
  14: 'DT_BFLOAT16',
  15: 'DT_QINT16',
  16: 'DT_QUINT16',
  17: 'DT_UINT16',
  18: 'DT_COMPLEX128',
  19: 'DT_HALF',
  20: 'DT_RESOURCE',
  21: 'DT_VARIANT',
  22: 'DT_UINT32',
  23: 'DT_UINT64',
  24: 'DT_FLOAT8_E5M2',
  25: 'DT_FLOAT8_E4M3FN',
  26: 'DT_FLOAT8_E4M3FNUZ',
  27: 'DT_FLOAT8_E4M3B11FNUZ',
  28: 'DT_FLOAT8_E5M2FNUZ',
  29: 'DT_INT4',
  30: 'DT_UINT4',
};

/** DataType value 101..130 is the reference form of 1..30 (DT_FLOAT_REF). */
const REF_OFFSET = 100;

export const DT_STRING = 7;
export const DT_RESOURCE = 20;
export const DT_VARIANT = 21;

/** `DT_FLOAT`, `DT_FLOAT_REF`, or `DT_UNKNOWN_<n>` for values TensorFlow has not defined. */
export function tfDtypeName(code: number): string {
  if (code > REF_OFFSET) {
    const base = TF_DTYPE_NAMES[code - REF_OFFSET];
    if (base) return `${base}_REF`;
  }
  return TF_DTYPE_NAMES[code] ?? `DT_UNKNOWN_${code}`;
}

/** ferry's dtype for a TensorFlow DataType, or undefined where ferry has none. */
export function ferryDtypeOfTf(code: number): DType | undefined {
  if (code <= 0 || code > REF_OFFSET * 2) return undefined;
  return dtypeFromTf(code);
}

/** What a signature or report shows: the ferry dtype name where one exists, else the DT_ name. */
export function tfDtypeDisplay(code: number): string {
  return ferryDtypeOfTf(code) ?? tfDtypeName(code);
}
