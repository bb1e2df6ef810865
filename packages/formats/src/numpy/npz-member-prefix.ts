import { inflateRange, memberDataOffset, type ZipArchive, type ZipEntry } from '../zip/index.js';

/** The first `length` bytes of a member, inflating only that much of a deflated one (bounded: zip/inflate-member.ts). */
export async function memberPrefix(zip: ZipArchive, entry: ZipEntry, length: number): Promise<Uint8Array> {
  const start = await memberDataOffset(zip, entry);
  const want = Math.min(length, entry.size);
  if (entry.method === 0) return zip.source.read(start, Math.min(want, entry.compressedSize));
  if (entry.method !== 8) return new Uint8Array(0);
  return inflateRange(zip, entry, 0, want);
}
