import { dtypeSize } from '../tensor/dtype.js';
import { isContiguous, type TensorRef } from '../tensor/tensor-ref.js';

/**
 * Tensors up to this size are gathered into batches: a file of 300,000 tiny tensors took one
 * read and one write syscall per tensor (37 s for 9 MB, issue #24); batched, a few per batch.
 */
export const SMALL_TENSOR_BYTES = 64 * 1024;
/** One batch's output buffer: the bytes of consecutive small tensors, written with one call. */
export const BATCH_BYTES = 4 * 2 ** 20;
/** Tensors in one batch: bounds the bookkeeping a batch holds at once. */
export const BATCH_TENSORS = 4096;
/** Reads of one source closer than this are merged into one read (the gap is read and dropped). */
const MERGE_GAP_BYTES = 16 * 1024;

export interface BatchItem {
  readonly ref: TensorRef;
  readonly bytes: number;
}

/** How many items from `from` on form the next batch (0: the item there is not small). */
export function batchLength(items: readonly BatchItem[], from: number): number {
  let total = 0;
  let end = from;
  while (end < items.length && end - from < BATCH_TENSORS) {
    const item = items[end]!;
    if (item.bytes > SMALL_TENSOR_BYTES || total + item.bytes > BATCH_BYTES || !direct(item.ref)) break;
    total += item.bytes;
    end++;
  }
  return end - from;
}

/** A read the source can serve as stored bytes: dense, little-endian (or single-byte); others take the chunked path. */
function direct(ref: TensorRef): boolean {
  return isContiguous(ref) && (ref.byteOrder !== 'big' || dtypeSize(ref.dtype) === 1);
}

/**
 * The bytes of consecutive direct tensors (batchLength chose them), back to back in one buffer:
 * reads are sorted by source and offset and merged where they are close, so a run of tiny
 * tensors costs a few reads.
 */
export async function readBatch(items: readonly BatchItem[]): Promise<Uint8Array> {
  const at: number[] = [];
  let total = 0;
  for (const item of items) {
    at.push(total);
    total += item.bytes;
  }
  const out = new Uint8Array(total);
  const bySource = new Map<TensorRef['source'], number[]>();
  for (const [i, item] of items.entries()) {
    const list = bySource.get(item.ref.source);
    if (list) list.push(i);
    else bySource.set(item.ref.source, [i]);
  }
  for (const [source, list] of bySource) {
    list.sort((a, b) => items[a]!.ref.offset - items[b]!.ref.offset);
    for (let start = 0; start < list.length; ) {
      const first = items[list[start]!]!.ref.offset;
      let last = first + items[list[start]!]!.bytes;
      let end = start + 1;
      while (end < list.length) {
        const next = items[list[end]!]!;
        const nextEnd = next.ref.offset + next.bytes;
        if (next.ref.offset > last + MERGE_GAP_BYTES || Math.max(last, nextEnd) - first > 2 * BATCH_BYTES)
          break;
        last = Math.max(last, nextEnd);
        end++;
      }
      const run = await source.read(first, last - first);
      for (let k = start; k < end; k++) {
        const i = list[k]!;
        const from = items[i]!.ref.offset - first;
        out.set(run.subarray(from, from + items[i]!.bytes), at[i]);
      }
      start = end;
    }
  }
  return out;
}
