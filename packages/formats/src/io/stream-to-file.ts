import type { FileHandle } from 'node:fs/promises';

/** Big enough that a GiB is a few hundred writes, small enough to be nothing next to a model. */
export const STREAM_WRITE_BYTES = 4 * 1024 * 1024;

/**
 * Writes a byte stream (a request or response body: many 16-64 KiB chunks) into a file from
 * `position`, through two reused buffers: one large positional write per buffer instead of one
 * per chunk, no fresh allocation per chunk, and the next buffer fills while the last is written.
 * Answers the bytes written. A failed write rejects; what was written before stays (the caller
 * writes to a temp file or an upload it can resume).
 */
export async function writeStreamToFile(
  file: FileHandle,
  source: AsyncIterable<Uint8Array>,
  position = 0,
  bufferBytes = STREAM_WRITE_BYTES,
): Promise<number> {
  const buffers = [Buffer.allocUnsafe(bufferBytes), Buffer.allocUnsafe(bufferBytes)] as const;
  let current = 0;
  let filled = 0;
  let at = position;
  let pending: Promise<void> = Promise.resolve();
  const flush = async () => {
    // The other buffer's write must end before this one starts: writes land in order, and the
    // other buffer is free to fill once this returns.
    await pending;
    const view = buffers[current]!.subarray(0, filled);
    const start = at;
    at += filled;
    filled = 0;
    current ^= 1;
    pending = writeFully(file, view, start);
    // awaited by the next flush or at the end; until then a failure must not count as unhandled
    pending.catch(() => {});
  };
  for await (const chunk of source) {
    for (let offset = 0; offset < chunk.length; ) {
      const count = Math.min(chunk.length - offset, bufferBytes - filled);
      buffers[current]!.set(chunk.subarray(offset, offset + count), filled);
      filled += count;
      offset += count;
      if (filled === bufferBytes) await flush();
    }
  }
  if (filled > 0) await flush();
  await pending;
  return at - position;
}

async function writeFully(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
