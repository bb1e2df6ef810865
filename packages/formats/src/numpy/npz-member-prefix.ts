import { ferryError } from '../errors.js';
import { memberDataOffset, type ZipArchive, type ZipEntry } from '../zip/index.js';
import { inflatePrefix } from './inflate-prefix.js';

/** The first `length` bytes of a member, inflating only that much of a deflated one. */
export async function memberPrefix(zip: ZipArchive, entry: ZipEntry, length: number): Promise<Uint8Array> {
  const start = await memberDataOffset(zip, entry);
  const want = Math.min(length, entry.size);
  if (entry.method === 0) return zip.source.read(start, Math.min(want, entry.compressedSize));
  if (entry.method !== 8) return new Uint8Array(0);
  // Deflate needs at most a few hundred bytes of block headers beyond its output (RFC 1951).
  const compressed = await zip.source.read(start, Math.min(entry.compressedSize, want + (want >> 4) + 1024));
  try {
    return await inflatePrefix(compressed, want);
  } catch (error) {
    throw ferryError(
      'FERRY_ZIP_STRUCTURE',
      {
        path: zip.source.name,
        what: `member ${entry.name}`,
        reason: `cannot inflate: ${(error as Error).message}`,
      },
      error,
    );
  }
}
