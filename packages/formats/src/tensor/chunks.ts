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
  buffer: Uint8Array = new Uint8Array(DEFAULT_CHUNK_BYTES),
): AsyncGenerator<Uint8Array> {
  const size = dtypeSize(ref.dtype);
  const direct = isContiguous(ref) && (ref.byteOrder !== 'big' || size === 1) && ref.source.readInto;
  if (!direct || buffer.length === 0) {
    yield await readTensorBytes(ref);
    return;
  }
  let count = 1;
  for (const dim of ref.shape) count *= dim;
  const total = count * size;
  for (let done = 0; done < total; ) {
    const length = Math.min(buffer.length, total - done);
    const view = buffer.subarray(0, length);
    await ref.source.readInto!(ref.offset + done, view);
    done += length;
    yield view;
  }
}
