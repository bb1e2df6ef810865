import { ferryError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { type DType, dtypeSize } from './dtype.js';

/**
 * A tensor as ferry sees it in every format: a name, a dtype, a shape and where its bytes are.
 * Nothing is read until `readTensorBytes` is called, and then only this tensor's range.
 */
export interface TensorRef {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly source: ByteSource;
  /** Byte offset of element 0 in `source`. */
  readonly offset: number;
  /** Bytes the tensor occupies in `source` as stored (numel x dtype size for dense C-order data). */
  readonly byteLength: number;
  /** Stored byte order; ferry's in-memory and written form is little-endian. */
  readonly byteOrder?: 'little' | 'big';
  /**
   * Element strides when the stored layout is not C-contiguous (PyTorch views); absent for
   * dense C-order data.
   */
  readonly strides?: readonly number[];
}

export function numel(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/** numel x size with an overflow check: shapes come from files and may be hostile. */
export function denseByteLength(
  dtype: DType,
  shape: readonly number[],
  path = '<tensor>',
  tensor = '',
): number {
  let count = 1n;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw ferryError('FERRY_TENSOR_SHAPE', {
        path,
        tensor,
        reason: `dimension ${dim} is not a non-negative integer`,
      });
    }
    count *= BigInt(dim);
  }
  const bytes = count * BigInt(dtypeSize(dtype));
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw ferryError('FERRY_TENSOR_SHAPE', {
      path,
      tensor,
      reason: `shape ${JSON.stringify(shape)} overflows`,
    });
  }
  return Number(bytes);
}

export function isContiguous(ref: TensorRef): boolean {
  if (!ref.strides) return true;
  let expected = 1;
  for (let axis = ref.shape.length - 1; axis >= 0; axis--) {
    const dim = ref.shape[axis]!;
    if (dim !== 1 && ref.strides[axis] !== expected) return false;
    expected *= dim;
  }
  return true;
}

function swapInPlace(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i + width <= bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/**
 * The tensor's bytes as dense, C-order, little-endian data: exactly what safetensors stores.
 * Strided views are gathered element by element from the smallest range that holds them.
 */
export async function readTensorBytes(ref: TensorRef): Promise<Uint8Array> {
  const size = dtypeSize(ref.dtype);
  const count = numel(ref.shape);
  let out: Uint8Array;
  if (isContiguous(ref)) {
    out = await ref.source.read(ref.offset, count * size);
  } else {
    out = await gatherStrided(ref, size, count);
  }
  if (ref.byteOrder === 'big') {
    // Copy first: a buffer source hands out views of its own bytes. Complex numbers are two
    // floats: swap each half.
    out = new Uint8Array(out);
    swapInPlace(out, ref.dtype === 'C64' ? 4 : size);
  }
  return out;
}

async function gatherStrided(ref: TensorRef, size: number, count: number): Promise<Uint8Array> {
  const strides = ref.strides!;
  let span = 1;
  for (let axis = 0; axis < ref.shape.length; axis++) {
    if (ref.shape[axis] === 0) return new Uint8Array(0);
    span += (ref.shape[axis]! - 1) * strides[axis]!;
  }
  let stored = await ref.source.read(ref.offset, span * size);
  const out = new Uint8Array(count * size);
  // Copy in the widest aligned word that divides the element size (integer words: moving
  // floats through JS numbers could rewrite NaN payloads).
  const unit = size % 4 === 0 ? 4 : size % 2 === 0 ? 2 : 1;
  if (stored.byteOffset % unit !== 0) stored = new Uint8Array(stored);
  const View = unit === 4 ? Uint32Array : unit === 2 ? Uint16Array : Uint8Array;
  const src = new View(stored.buffer as ArrayBuffer, stored.byteOffset, stored.byteLength / unit);
  const dst = new View(out.buffer, 0, out.byteLength / unit);
  const words = size / unit;
  const rank = ref.shape.length;
  const index = new Array<number>(rank).fill(0);
  // Walk the output in C order, moving the source position by strides instead of recomputing it.
  let at = 0;
  let o = 0;
  for (let element = 0; element < count; element++) {
    const from = at * words;
    for (let w = 0; w < words; w++) dst[o++] = src[from + w]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      at += strides[axis]!;
      if (++index[axis]! < ref.shape[axis]!) break;
      at -= strides[axis]! * ref.shape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}
