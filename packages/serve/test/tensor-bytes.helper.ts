/** Little-endian packed bytes of protocol datatypes, for gRPC raw contents in tests. */
type Values = readonly (number | boolean | bigint | string)[];

const ARRAYS = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  INT8: Int8Array,
  INT16: Int16Array,
  UINT16: Uint16Array,
  INT32: Int32Array,
  UINT32: Uint32Array,
  INT64: BigInt64Array,
  UINT64: BigUint64Array,
  FP32: Float32Array,
  FP64: Float64Array,
  FP16: Uint16Array,
} as const;
type Numeric = keyof typeof ARRAYS;

export function encodeRaw(datatype: string, values: Values): Buffer {
  const Ctor = ARRAYS[datatype as Numeric];
  if (!Ctor) throw new Error(`no raw encoding for ${datatype}`);
  const array =
    Ctor === BigInt64Array || Ctor === BigUint64Array
      ? new Ctor(values.map((v) => BigInt(v as number | string | bigint)))
      : new (Ctor as Float64ArrayConstructor)(values.map((v) => Number(v)));
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

/** Numbers for numeric types (64-bit integers as Number: the fixtures stay far below 2^53). */
export function decodeRaw(datatype: string, raw: Uint8Array): number[] {
  const Ctor = ARRAYS[datatype as Numeric];
  if (!Ctor) throw new Error(`no raw decoding for ${datatype}`);
  const copy = new Uint8Array(raw).buffer;
  return Array.from(new Ctor(copy) as ArrayLike<number | bigint>, (v) => Number(v));
}

/** numpy / TensorFlow dtype names to protocol datatypes. */
export const PROTOCOL_DATATYPE: Record<string, string> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
};

/** Equal within `tolerance` relative to each expected value (floats), exactly otherwise. */
export function sameValues(
  datatype: string,
  actual: readonly number[],
  expected: readonly number[],
  tolerance = 1e-4,
) {
  if (actual.length !== expected.length) return false;
  if (!datatype.startsWith('FP')) return actual.every((v, i) => v === expected[i]);
  return actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance * (1 + Math.abs(expected[i]!)));
}
