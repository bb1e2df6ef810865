/**
 * The buffers a batch's rows are joined into (concatRows), reused across executions. A batch of
 * the mid MLP (64 rows x 4 KB) took a fresh 256 KB buffer per execution; a worker-thread backend
 * moves it to its thread, which freed it on its next GC, on the same core as the server. A backend
 * that is done with a batch buffer (the run ended, nothing else refers to it) gives it back with
 * recycleBatchBuffer and the next batch of a similar size is joined into it; a backend that never
 * does only costs what it did before (a fresh buffer per batch).
 */

/** Buffers up to this size are kept for reuse; larger ones are left to the GC (a 16 MiB image batch is rare enough). CWE-770. */
export const MAX_POOLED_BUFFER_BYTES = 16 * 2 ** 20;
/** Most buffers kept per size class: one joining, one running and one returning per instance is the common case. CWE-770. */
export const MAX_POOLED_PER_SIZE = 4;
/** The smallest size class: smaller batches share it rather than keeping many tiny classes. */
const MIN_CLASS_BYTES = 4096;

/** Buffers concatRows made (or lent out) for one execution: nothing else refers to them. */
const batchBuffers = new WeakSet<ArrayBufferLike>();
/** Free buffers by capacity (a power of two). */
const free = new Map<number, ArrayBuffer[]>();

const classOf = (byteLength: number) => Math.max(MIN_CLASS_BYTES, 2 ** Math.ceil(Math.log2(byteLength || 1)));

/**
 * `byteLength` bytes at the start of a buffer that only the caller holds, reused when one was
 * given back; its contents are not zeroed (the caller writes every byte).
 */
export function takeBatchBuffer(byteLength: number): Buffer {
  const capacity = classOf(byteLength);
  const buffer =
    capacity <= MAX_POOLED_BUFFER_BYTES
      ? (free.get(capacity)?.pop() ?? Buffer.allocUnsafeSlow(capacity).buffer)
      : Buffer.allocUnsafeSlow(byteLength).buffer;
  batchBuffers.add(buffer);
  return Buffer.from(buffer, 0, byteLength);
}

/**
 * True when `bytes` starts a buffer that takeBatchBuffer lent and only the batch holds: a backend
 * may move the whole buffer to another thread instead of copying it.
 */
export function ownedByBatch(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && batchBuffers.has(bytes.buffer);
}

/**
 * Gives back a buffer that nothing refers to any more (a backend's run has ended and its inputs
 * are dropped), for the next batch. Buffers of odd sizes, too large or beyond the per-size count
 * are left to the GC.
 */
export function recycleBatchBuffer(buffer: ArrayBuffer): void {
  const capacity = buffer.byteLength;
  if (capacity > MAX_POOLED_BUFFER_BYTES || capacity !== classOf(capacity)) return;
  let list = free.get(capacity);
  if (!list) free.set(capacity, (list = []));
  if (list.length < MAX_POOLED_PER_SIZE && !list.includes(buffer)) list.push(buffer);
}
