import { DTYPE_TABLE, type DType, dtypeFromProtocol, dtypeSize } from '@ferry/formats';

/**
 * The protocol's tensor datatypes (inference_rest.md "Tensor Data Types", plus BF16 which the
 * gRPC spec and Triton carry as raw bytes). Numeric tensors travel inside ferry as dense
 * little-endian bytes, BYTES tensors as one Uint8Array per element.
 */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'BF16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

export type Datatype = (typeof DATATYPES)[number];
export type NumericDatatype = Exclude<Datatype, 'BYTES'>;

/** Each numeric protocol datatype as ferry's dtype (the one dtype table in @ferry/formats). */
export const DTYPE_OF: Readonly<Record<NumericDatatype, DType>> = Object.fromEntries(
  DATATYPES.filter((d): d is NumericDatatype => d !== 'BYTES').map((d) => [d, dtypeFromProtocol(d)!]),
) as Record<NumericDatatype, DType>;

/** The protocol datatype of a ferry dtype (the dtype table's protocol column); undefined where none. */
export function datatypeOf(dtype: DType): NumericDatatype | undefined {
  const protocol = DTYPE_TABLE[dtype].protocol;
  return protocol !== null && isDatatype(protocol) && protocol !== 'BYTES' ? protocol : undefined;
}

/** Bytes per element of each numeric datatype, from the dtype table. */
export const DATATYPE_SIZE: Readonly<Record<NumericDatatype, number>> = Object.fromEntries(
  Object.entries(DTYPE_OF).map(([datatype, dtype]) => [datatype, dtypeSize(dtype)]),
) as Record<NumericDatatype, number>;

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && (DATATYPES as readonly string[]).includes(value);
}

/** Integer range per integer datatype, as bigint so 64-bit bounds are exact. */
export const INTEGER_RANGE: Readonly<Partial<Record<NumericDatatype, readonly [bigint, bigint]>>> = {
  UINT8: [0n, 255n],
  UINT16: [0n, 65535n],
  UINT32: [0n, 4294967295n],
  UINT64: [0n, 18446744073709551615n],
  INT8: [-128n, 127n],
  INT16: [-32768n, 32767n],
  INT32: [-2147483648n, 2147483647n],
  INT64: [-9223372036854775808n, 9223372036854775807n],
};
