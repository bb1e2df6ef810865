import { open } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';

/** Read size for sending: large reads, and few enough buffers that memory stays flat. */
const SEND_READ_BYTES = 1024 * 1024;

/**
 * Writes bytes `start..end` (inclusive) of a file into a request body and ends it, through two
 * reused buffers: a buffer is read into again only once the socket has taken its last write (the
 * write callback), so there is no fresh allocation per chunk (a stream's fresh buffers cost a page
 * fault per 4 KiB and GC work) and the next read overlaps the last send. This relies on the
 * request's write callback firing once its socket has copied the bytes, which holds for node:http
 * and node:https requests (not for a Writable that keeps references, such as a PassThrough).
 */
export async function sendFileRange(
  body: ClientRequest,
  path: string,
  start: number,
  end: number,
): Promise<void> {
  const file = await open(path, 'r');
  try {
    const buffers = [Buffer.allocUnsafe(SEND_READ_BYTES), Buffer.allocUnsafe(SEND_READ_BYTES)] as const;
    const sent: [Promise<void>, Promise<void>] = [Promise.resolve(), Promise.resolve()];
    let turn = 0;
    for (let position = start; position <= end; turn ^= 1) {
      await sent[turn];
      const buffer = buffers[turn]!;
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, end - position + 1), position);
      if (bytesRead === 0) throw new Error(`${path} ended at byte ${position}, before ${end + 1}`);
      position += bytesRead;
      const written = new Promise<void>((resolve, reject) =>
        body.write(buffer.subarray(0, bytesRead), (error) => (error ? reject(error) : resolve())),
      );
      // awaited when the buffer comes round again or at the end
      written.catch(() => {});
      sent[turn] = written;
    }
    await Promise.all(sent);
  } finally {
    await file.close();
  }
  await new Promise<void>((resolve) => body.end(resolve));
}
