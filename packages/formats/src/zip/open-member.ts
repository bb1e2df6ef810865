import { ferryError } from '../errors.js';
import { type ByteSource, SliceSource } from '../tensor/byte-source.js';
import { DeflatedMemberSource } from './deflated-member-source.js';
import type { InflateBudget } from './inflate-budget.js';
import { memberDataOffset, type ZipArchive, type ZipEntry } from './zip-reader.js';

/**
 * A member as a byte source: a zero-copy window for stored members (PyTorch writes its
 * checkpoints stored and 64-byte aligned for this), a bounded streaming inflater for deflated
 * ones (inflate-member.ts). `budget` is shared by everything one scan inflates.
 */
export async function openMember(
  zip: ZipArchive,
  entry: ZipEntry,
  budget?: InflateBudget,
): Promise<ByteSource> {
  const start = await memberDataOffset(zip, entry);
  const name = `${zip.source.name}:${entry.name}`;
  // Bit 0: encrypted (APPNOTE 4.4.4); the bytes are ciphertext, never model data.
  if (entry.flags & 0x1) {
    throw ferryError('FERRY_UNSUPPORTED', {
      path: zip.source.name,
      what: 'an encrypted member',
      reason: entry.name,
    });
  }
  if (entry.method === 0) return new SliceSource(zip.source, start, entry.compressedSize, name);
  if (entry.method === 8) return new DeflatedMemberSource(zip, entry, budget);
  throw ferryError('FERRY_UNSUPPORTED', {
    path: zip.source.name,
    what: `compression method ${entry.method}`,
    reason: `member ${entry.name}`,
  });
}
