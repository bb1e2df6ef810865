import { numel } from '@ferry/formats';
import { takeBatchBuffer } from './batch-buffers.js';
import type { Datatype, NumericDatatype } from './datatype.js';

/** A numeric tensor: dense row-major little-endian bytes. */
export interface NumericTensor {
  readonly datatype: NumericDatatype;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** A BYTES tensor: one byte string per element, row-major. */
export interface BytesTensor {
  readonly datatype: 'BYTES';
  readonly shape: readonly number[];
  readonly strings: readonly Uint8Array[];
}

export type Tensor = NumericTensor | BytesTensor;

/** Elements in a shape (the formats package's numel). */
export const elementCount = numel;

export function isBytesTensor(tensor: Tensor): tensor is BytesTensor {
  return tensor.datatype === 'BYTES';
}

/** Rows [from, to) of a tensor along its first dimension; shares memory with the source. */
export function sliceRows(tensor: Tensor, from: number, to: number): Tensor {
  const rows = tensor.shape[0] ?? 0;
  const perRow = rows === 0 ? 0 : elementCount(tensor.shape) / rows;
  const shape = [to - from, ...tensor.shape.slice(1)];
  if (isBytesTensor(tensor))
    return { datatype: 'BYTES', shape, strings: tensor.strings.slice(from * perRow, to * perRow) };
  const rowBytes = rows === 0 ? 0 : tensor.bytes.byteLength / rows;
  return { datatype: tensor.datatype, shape, bytes: tensor.bytes.subarray(from * rowBytes, to * rowBytes) };
}

/** Tensors of the same datatype and non-batch dims, stacked along the first dimension. */
export function concatRows(datatype: Datatype, parts: readonly Tensor[]): Tensor {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const rows = parts.reduce((sum, part) => sum + (part.shape[0] ?? 0), 0);
  const shape = [rows, ...first.shape.slice(1)];
  if (datatype === 'BYTES') {
    const strings: Uint8Array[] = [];
    for (const part of parts) strings.push(...(part as BytesTensor).strings);
    return { datatype, shape, strings };
  }
  const total = parts.reduce((sum, part) => sum + (part as NumericTensor).bytes.byteLength, 0);
  // every byte is written below, so the buffer need not be zeroed first
  const bytes: Uint8Array = takeBatchBuffer(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set((part as NumericTensor).bytes, offset);
    offset += (part as NumericTensor).bytes.byteLength;
  }
  return { datatype, shape, bytes };
}
