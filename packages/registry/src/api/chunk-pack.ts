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
  let pending: Buffer[] = [];
  let buffered = 0;
  let need = PACK_HEADER_BYTES;
  let sha256: string | undefined;
  const take = (n: number): Buffer => {
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    pending = rest.length > 0 ? [rest] : [];
    buffered = rest.length;
    return out;
  };
  for await (const piece of body) {
    pending.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
    buffered += piece.length;
    while (buffered >= need) {
      if (sha256 === undefined) {
        const header = take(PACK_HEADER_BYTES);
        sha256 = header.subarray(0, 32).toString('hex');
        need = new DataView(header.buffer, header.byteOffset, PACK_HEADER_BYTES).getUint32(32, false);
        if (need === 0 || need > MAX_CHUNK_BYTES)
          throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
            what: `chunk pack, chunk sha256:${sha256}`,
            reason: `size ${need} is not 1..${MAX_CHUNK_BYTES} (MAX_CHUNK_BYTES)`,
          });
      } else {
        // A copy: the chunk outlives the request's buffers while it is stored.
        const bytes = Buffer.from(take(need));
        yield { sha256, bytes };
        sha256 = undefined;
        need = PACK_HEADER_BYTES;
      }
    }
  }
  if (buffered > 0 || sha256 !== undefined)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'chunk pack',
      reason: `ends inside a chunk (${buffered} bytes left over)`,
    });
}
