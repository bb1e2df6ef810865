import { registryError } from '../errors.js';
import { MAX_CHUNK_BYTES } from '../limits.js';
import type { ByteStream } from '../store/blob-store.js';

/** Bytes before each chunk in a pack: its sha256 (32 raw bytes) and its size (uint32, big-endian). */
export const PACK_HEADER_BYTES = 36;

/**
 * Reads a chunk pack (`POST /api/v1/chunks`): chunks one after another, each preceded by its
 * header. Yields each chunk whole (at most MAX_CHUNK_BYTES in memory); the caller verifies it.
 */
export async function* readPack(body: ByteStream): AsyncGenerator<{ sha256: string; bytes: Buffer }> {
  // Each byte is copied once, into its header or into its chunk's own buffer (which outlives the
  // request's buffers while it is stored): no concatenation, little garbage.
  const header = Buffer.allocUnsafe(PACK_HEADER_BYTES);
  let headerFilled = 0;
  let chunk: Buffer | undefined;
  let chunkFilled = 0;
  let sha256 = '';
  for await (const piece of body) {
    for (let at = 0; at < piece.length; ) {
      if (!chunk) {
        const n = Math.min(PACK_HEADER_BYTES - headerFilled, piece.length - at);
        header.set(piece.subarray(at, at + n), headerFilled);
        headerFilled += n;
        at += n;
        if (headerFilled < PACK_HEADER_BYTES) continue;
        sha256 = header.subarray(0, 32).toString('hex');
        const size = new DataView(header.buffer, header.byteOffset, PACK_HEADER_BYTES).getUint32(32, false);
        if (size === 0 || size > MAX_CHUNK_BYTES)
          throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
            what: `chunk pack, chunk sha256:${sha256}`,
            reason: `size ${size} is not 1..${MAX_CHUNK_BYTES} (MAX_CHUNK_BYTES)`,
          });
        chunk = Buffer.allocUnsafe(size);
        chunkFilled = 0;
        headerFilled = 0;
        continue;
      }
      const n = Math.min(chunk.length - chunkFilled, piece.length - at);
      chunk.set(piece.subarray(at, at + n), chunkFilled);
      chunkFilled += n;
      at += n;
      if (chunkFilled === chunk.length) {
        yield { sha256, bytes: chunk };
        chunk = undefined;
      }
    }
  }
  if (chunk || headerFilled > 0)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'chunk pack',
      reason: `ends inside a chunk (${chunk ? `${chunkFilled} of ${chunk.length} bytes` : `${headerFilled} header bytes`})`,
    });
}
