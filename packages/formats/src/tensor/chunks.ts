import { dtypeSize } from './dtype.js';
import { isContiguous, readTensorBytes, type TensorRef } from './tensor-ref.js';

/** The default chunk for streaming: large enough that per-read overhead is small, small enough to stay cache-friendly. */
export const DEFAULT_CHUNK_BYTES = 8 * 2 ** 20;

/**
 * A tensor's dense little-endian bytes as a sequence of chunks read into one reused buffer, so
 * streaming a whole file costs one buffer, not one allocation per tensor. Each chunk is a view
 * that is only valid until the next one is requested: copy it to keep it. Strided or big-endian
 * tensors (which need gathering or swapping) come as one chunk from `readTensorBytes`.
 */
export async function* readTensorChunks(
  ref: TensorRef,
  buffers: Uint8Array | BufferRing = new Uint8Array(DEFAULT_CHUNK_BYTES),
): AsyncGenerator<Uint8Array> {
  const size = dtypeSize(ref.dtype);
  const direct = isContiguous(ref) && (ref.byteOrder !== 'big' || size === 1) && ref.source.readInto;
  const ring = buffers instanceof BufferRing ? buffers : undefined;
  if (!direct || (ring ? ring.size : (buffers as Uint8Array).length) === 0) {
    yield await readTensorBytes(ref);
    return;
  }
  let count = 1;
  for (const dim of ref.shape) count *= dim;
  const total = count * size;
  for (let done = 0; done < total; ) {
    const buffer = ring ? ring.next() : (buffers as Uint8Array);
    const length = Math.min(buffer.length, total - done);
    const view = buffer.subarray(0, length);
    await ref.source.readInto!(ref.offset + done, view);
    done += length;
    yield view;
  }
}

/**
 * Buffers handed out in turn, across tensors: with two, a writer can write chunk N from one while
 * chunk N+1 is read into the other (reads and writes overlap instead of alternating).
 */
export class BufferRing {
  private readonly buffers: Uint8Array[];
  private turn = 0;
  constructor(
    count: number,
    readonly size: number,
  ) {
    this.buffers = Array.from({ length: count }, () => new Uint8Array(size));
  }
  next(): Uint8Array {
    const buffer = this.buffers[this.turn]!;
    this.turn = (this.turn + 1) % this.buffers.length;
    return buffer;
  }
}
