import type { Datatype } from '@ferry/serving-api';
import { ownedByBatch, type Tensor, takeBatchBuffer } from '@ferry/serving-api';

/** Protocol datatype <-> onnxruntime-node tensor type. BF16 is absent: onnxruntime-node has no bfloat16 tensors. */
const TO_ORT: Readonly<Partial<Record<Datatype, string>>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};
export const FROM_ORT = new Map(Object.entries(TO_ORT).map(([k, v]) => [v, k as Datatype]));

type ArrayCtor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;
const ARRAYS: Readonly<Partial<Record<Datatype, ArrayCtor & { BYTES_PER_ELEMENT: number }>>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

export const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();
/** A tensor as onnxruntime-node takes it (new ort.Tensor(type, data, dims)) and gives it back. */
export interface OrtTensorData {
  name: string;
  type: string;
  dims: readonly number[];
  data: ArrayBufferView | string[];
}

/**
 * A request tensor as ORT data. `own`: the data gets a buffer of its own, to be moved to another
 * thread (a batch's joined input already is one; a request's own view may share a larger body
 * buffer, so it goes as an exact copy). `view`: the bytes are used in place where their offset
 * suits the element type, and copied only where it does not.
 */
export function toOrtData(name: string, tensor: Tensor, mode: 'own' | 'view'): OrtTensorData {
  const dims = [...tensor.shape];
  if (tensor.datatype === 'BYTES')
    return { name, type: 'string', dims, data: tensor.strings.map((s) => utf8.decode(s)) };
  const Ctor = ARRAYS[tensor.datatype];
  const type = TO_ORT[tensor.datatype];
  if (!Ctor || !type) throw new Error(`onnxruntime-node cannot carry ${tensor.datatype} tensors`);
  const bytes = tensor.bytes;
  const usable = mode === 'own' ? ownedByBatch(bytes) : bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0;
  // a copy to move goes into a batch buffer, which the worker gives back for the next run
  const data = usable ? bytes : mode === 'own' ? copyToBatchBuffer(bytes) : new Uint8Array(bytes);
  return {
    name,
    type,
    dims,
    data: new Ctor(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength / Ctor.BYTES_PER_ELEMENT),
  };
}

function copyToBatchBuffer(bytes: Uint8Array): Uint8Array {
  const copy = takeBatchBuffer(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/** ORT's output as a protocol tensor, sharing its memory. */
export function fromOrtData(value: OrtTensorData): Tensor {
  const datatype = FROM_ORT.get(value.type);
  if (!datatype)
    throw new Error(`onnxruntime returned a ${value.type} tensor, which the protocol cannot carry`);
  const shape = [...value.dims];
  if (datatype === 'BYTES')
    return { datatype, shape, strings: (value.data as string[]).map((s) => utf8Encoder.encode(s)) };
  const data = value.data as ArrayBufferView;
  return { datatype, shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
