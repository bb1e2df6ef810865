import { ferryError } from '../errors.js';
import { type DType, dtypeSize } from '../tensor/dtype.js';
import { denseByteLength, numel } from '../tensor/tensor-ref.js';
import { ferryDtypeOfTf, tfDtypeName } from './dtypes.js';
import type { TfTensor } from './types.js';

/**
 * A constant written as a few typed values expands to its full shape in memory; a hostile shape
 * on one value could otherwise ask for gigabytes (CWE-789).
 */
export const MAX_EXPANDED_CONST_BYTES = 256 * 1024 * 1024;

/**
 * A constant's value as dense little-endian C-order bytes: what a Const node's `value` attr holds,
 * ready to become an ONNX initializer. TensorFlow writes either `tensor_content` (raw bytes) or the
 * typed `*_val` fields, where fewer values than elements means "repeat the last one"
 * (tensor.proto: version 0 splat; tensor_util.MakeNdarray does the same).
 */
export function tfTensorToBytes(
  tensor: TfTensor,
  where = '<tensor>',
): { dtype: DType; shape: number[]; bytes: Uint8Array } {
  const dtype = ferryDtypeOfTf(tensor.dtype);
  if (!dtype) {
    throw ferryError('FERRY_UNSUPPORTED', {
      path: where,
      what: `tensor of ${tfDtypeName(tensor.dtype)}`,
      reason: 'ferry has no dense dtype for it',
    });
  }
  if (tensor.shape.unknownRank || tensor.shape.dims.some((d) => d < 0)) {
    throw ferryError('FERRY_TENSOR_SHAPE', {
      path: where,
      tensor: '',
      reason: 'a constant must have a fully known shape',
    });
  }
  const shape = [...tensor.shape.dims];
  const byteLength = denseByteLength(dtype, shape, where);
  if (tensor.tensorContent) {
    if (tensor.tensorContent.length !== byteLength) {
      throw ferryError('FERRY_TENSOR_SHAPE', {
        path: where,
        tensor: '',
        reason: `tensor_content has ${tensor.tensorContent.length} bytes, shape ${JSON.stringify(shape)} needs ${byteLength}`,
      });
    }
    return { dtype, shape, bytes: tensor.tensorContent };
  }
  if (byteLength > MAX_EXPANDED_CONST_BYTES) {
    throw ferryError('FERRY_LIMIT', {
      path: where,
      what: 'expanded constant size',
      value: byteLength,
      limit: MAX_EXPANDED_CONST_BYTES,
      reason: 'typed values are expanded to the full shape in memory (CWE-789)',
    });
  }
  const count = numel(shape);
  const out = new Uint8Array(byteLength);
  const view = new DataView(out.buffer);
  const size = dtypeSize(dtype);
  const fill = <T>(values: readonly T[], put: (at: number, v: T) => void, perElement = 1): void => {
    const elements = values.length / perElement;
    if (elements > count || !Number.isInteger(elements)) {
      throw ferryError('FERRY_TENSOR_SHAPE', {
        path: where,
        tensor: '',
        reason: `${values.length} values do not fit shape ${JSON.stringify(shape)}`,
      });
    }
    if (count === 0) return;
    if (elements === 0) return; // no values: zeros (TensorFlow's default)
    for (let e = 0; e < count; e++) {
      const src = Math.min(e, elements - 1) * perElement;
      for (let p = 0; p < perElement; p++) put(e * size + p * (size / perElement), values[src + p]!);
    }
  };
  switch (dtype) {
    case 'F32':
      fill(tensor.floatVal, (at, v) => view.setFloat32(at, v, true));
      break;
    case 'F64':
      fill(tensor.doubleVal, (at, v) => view.setFloat64(at, v, true));
      break;
    case 'F16':
    case 'BF16':
      // DT_HALF and DT_BFLOAT16 values are their 16 bits, widened to int32 (tensor.proto).
      fill(tensor.halfVal, (at, v) => view.setUint16(at, v & 0xffff, true));
      break;
    case 'I32':
    case 'I16':
    case 'I8':
    case 'U8':
    case 'U16':
      fill(tensor.intVal, (at, v) => {
        if (size === 4) view.setInt32(at, v, true);
        else if (size === 2) view.setUint16(at, v & 0xffff, true);
        else out[at] = v & 0xff;
      });
      break;
    case 'F8_E4M3':
    case 'F8_E5M2':
      fill([...(tensor.float8Val ?? [])], (at, v) => {
        out[at] = v;
      });
      break;
    case 'I64':
      fill(tensor.int64Val, (at, v) => view.setBigInt64(at, v, true));
      break;
    case 'U32':
      fill(tensor.uint32Val, (at, v) => view.setUint32(at, v, true));
      break;
    case 'U64':
      fill(tensor.uint64Val, (at, v) => view.setBigUint64(at, v, true));
      break;
    case 'BOOL':
      fill(tensor.boolVal, (at, v) => {
        out[at] = v ? 1 : 0;
      });
      break;
    case 'C64':
      fill(tensor.scomplexVal, (at, v) => view.setFloat32(at, v, true), 2);
      break;
  }
  return { dtype, shape, bytes: out };
}
