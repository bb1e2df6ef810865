export { BufferSource, type ByteSource, FileSource, SliceSource } from './byte-source.js';
export { BufferRing, DEFAULT_CHUNK_BYTES, readTensorChunks } from './chunks.js';
export {
  DTYPE_TABLE,
  DTYPES,
  type DType,
  type DTypeInfo,
  dtypeFromGgml,
  dtypeFromNumpy,
  dtypeFromOnnx,
  dtypeFromProtocol,
  dtypeFromTf,
  dtypeFromTorch,
  dtypeFromTorchStorage,
  dtypeSize,
  isDType,
} from './dtype.js';
export { denseByteLength, isContiguous, numel, readTensorBytes, type TensorRef } from './tensor-ref.js';
export { decodeValues, f8e4m3fnToNumber, f8e5m2ToNumber, f16ToNumber } from './values.js';
