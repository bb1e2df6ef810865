/**
 * The one dtype table: every format maps its own codes to these names (safetensors' names are
 * ferry's public names). A format's code that is missing here has no ferry dtype (e.g. ONNX
 * STRING, TensorFlow DT_RESOURCE, GGML's quantized block types): the reader reports it, and
 * conversion refuses it by name.
 */
export const DTYPES = [
  'BOOL',
  'U8',
  'I8',
  'U16',
  'I16',
  'F16',
  'BF16',
  'U32',
  'I32',
  'F32',
  'U64',
  'I64',
  'F64',
  'F8_E4M3',
  'F8_E5M2',
  'C64',
] as const;

export type DType = (typeof DTYPES)[number];

export interface DTypeInfo {
  readonly name: DType;
  /** Bytes per element. */
  readonly size: number;
  readonly kind: 'bool' | 'uint' | 'int' | 'float' | 'complex';
  /** ONNX TensorProto.DataType (onnx/onnx.proto). */
  readonly onnx: number;
  /** PyTorch dtype name (`torch.float32`) and legacy storage class (`FloatStorage`). */
  readonly torch: string | null;
  readonly torchStorage: string | null;
  /** TensorFlow DataType enum (tensorflow/core/framework/types.proto). */
  readonly tf: number | null;
  /** NumPy array-protocol descr, little-endian form (`<f4`); null where NumPy has none. */
  readonly numpy: string | null;
  /** ggml_type (ggml/include/ggml.h) for the unquantized types. */
  readonly ggml: number | null;
  /** Open Inference Protocol v2 tensor datatype (inference_rest.md "Tensor Data Types", plus BF16). */
  readonly protocol: string | null;
}

const row = (
  name: DType,
  size: number,
  kind: DTypeInfo['kind'],
  onnx: number,
  torch: string | null,
  torchStorage: string | null,
  tf: number | null,
  numpy: string | null,
  ggml: number | null,
  protocol: string | null,
): DTypeInfo => ({ name, size, kind, onnx, torch, torchStorage, tf, numpy, ggml, protocol });

export const DTYPE_TABLE: Readonly<Record<DType, DTypeInfo>> = {
  BOOL: row('BOOL', 1, 'bool', 9, 'torch.bool', 'BoolStorage', 10, '|b1', null, 'BOOL'),
  U8: row('U8', 1, 'uint', 2, 'torch.uint8', 'ByteStorage', 4, '|u1', null, 'UINT8'),
  I8: row('I8', 1, 'int', 3, 'torch.int8', 'CharStorage', 6, '|i1', 24, 'INT8'),
  U16: row('U16', 2, 'uint', 4, 'torch.uint16', null, 17, '<u2', null, 'UINT16'),
  I16: row('I16', 2, 'int', 5, 'torch.int16', 'ShortStorage', 5, '<i2', 25, 'INT16'),
  F16: row('F16', 2, 'float', 10, 'torch.float16', 'HalfStorage', 19, '<f2', 1, 'FP16'),
  BF16: row('BF16', 2, 'float', 16, 'torch.bfloat16', 'BFloat16Storage', 14, null, 30, 'BF16'),
  U32: row('U32', 4, 'uint', 12, 'torch.uint32', null, 22, '<u4', null, 'UINT32'),
  I32: row('I32', 4, 'int', 6, 'torch.int32', 'IntStorage', 3, '<i4', 26, 'INT32'),
  F32: row('F32', 4, 'float', 1, 'torch.float32', 'FloatStorage', 1, '<f4', 0, 'FP32'),
  U64: row('U64', 8, 'uint', 13, 'torch.uint64', null, 23, '<u8', null, 'UINT64'),
  I64: row('I64', 8, 'int', 7, 'torch.int64', 'LongStorage', 9, '<i8', 27, 'INT64'),
  F64: row('F64', 8, 'float', 11, 'torch.float64', 'DoubleStorage', 2, '<f8', 28, 'FP64'),
  F8_E4M3: row('F8_E4M3', 1, 'float', 17, 'torch.float8_e4m3fn', null, 25, null, null, null),
  F8_E5M2: row('F8_E5M2', 1, 'float', 19, 'torch.float8_e5m2', null, 24, null, null, null),
  C64: row('C64', 8, 'complex', 14, 'torch.complex64', 'ComplexFloatStorage', 8, '<c8', null, null),
};

export function isDType(name: string): name is DType {
  return Object.hasOwn(DTYPE_TABLE, name);
}

export function dtypeSize(dtype: DType): number {
  return DTYPE_TABLE[dtype].size;
}

function indexBy<K extends string | number>(pick: (info: DTypeInfo) => K | null): Map<K, DType> {
  const map = new Map<K, DType>();
  for (const info of Object.values(DTYPE_TABLE)) {
    const key = pick(info);
    if (key !== null) map.set(key, info.name);
  }
  return map;
}

const byOnnx = indexBy((d) => d.onnx);
const byTorch = indexBy((d) => d.torch);
const byTorchStorage = indexBy((d) => d.torchStorage);
const byTf = indexBy((d) => d.tf);
const byNumpy = indexBy((d) => d.numpy);
const byGgml = indexBy((d) => d.ggml);
const byProtocol = indexBy((d) => d.protocol);

/** ONNX TensorProto.DataType -> ferry dtype, or undefined (STRING, COMPLEX128, FNUZ floats...). */
export const dtypeFromOnnx = (code: number): DType | undefined => byOnnx.get(code);
/** `torch.float32` or `float32` -> ferry dtype. */
export const dtypeFromTorch = (name: string): DType | undefined =>
  byTorch.get(name.startsWith('torch.') ? name : `torch.${name}`);
/** Legacy storage class name (`FloatStorage`, also as `torch.FloatStorage`) -> ferry dtype. */
export const dtypeFromTorchStorage = (name: string): DType | undefined =>
  byTorchStorage.get(name.replace(/^torch\./, ''));
/** TensorFlow DataType enum value -> ferry dtype; reference types (DT_FLOAT_REF = 101) map too. */
export const dtypeFromTf = (code: number): DType | undefined => byTf.get(code > 100 ? code - 100 : code);
/** Open Inference Protocol datatype (`FP32`, `INT64`...) -> ferry dtype; BYTES has none. */
export const dtypeFromProtocol = (datatype: string): DType | undefined => byProtocol.get(datatype);
/** GGML type for unquantized tensors -> ferry dtype. */
export const dtypeFromGgml = (code: number): DType | undefined => byGgml.get(code);

/**
 * NumPy descr (`<f4`, `>i8`, `|u1`, `=f8`, `b1`) -> ferry dtype and byte order, or undefined
 * for descrs ferry has no dtype for (objects, strings, structured records).
 */
export function dtypeFromNumpy(descr: string): { dtype: DType; byteOrder: 'little' | 'big' } | undefined {
  const match = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  if (!match) return undefined;
  const [, order, kind, bytes] = match as unknown as [string, string, string, string];
  const size = Number(bytes);
  const canonical = size === 1 ? `|${kind}${bytes}` : `<${kind}${bytes}`;
  const dtype = byNumpy.get(canonical);
  if (!dtype) return undefined;
  // '=' is native order; every machine ferry runs on is little-endian.
  return { dtype, byteOrder: order === '>' && size > 1 ? 'big' : 'little' };
}
