import { inflateRawSync } from 'node:zlib';
import { ferryError } from '../errors.js';
import { BufferSource, type ByteSource, SliceSource } from '../tensor/byte-source.js';

/** More entries than this is refused: a central directory can claim billions (CWE-770). */
export const MAX_ZIP_ENTRIES = 1_000_000;
/** The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes (APPNOTE 4.3.16). */
const MAX_EOCD_SEARCH = 22 + 0xffff;
/** A deflated member is inflated in memory; bigger ones are refused rather than risk a zip bomb (CWE-409). */
export const MAX_INFLATED_MEMBER = 2 ** 31 - 1;

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflate; others are reported, not read. */
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Offset of the local header in the source, corrected for data prepended to the archive. */
  readonly localHeaderOffset: number;
}

export interface ZipArchive {
  readonly source: ByteSource;
  readonly entries: readonly ZipEntry[];
  /** Bytes before the first local header (a prepended stub): legitimate in zip, suspicious in a model. */
  readonly prefixBytes: number;
}

function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}
function u32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
}
function u64(b: Uint8Array, at: number, path: string, what: string): number {
  const value = new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw ferryError('FERRY_ZIP_STRUCTURE', { path, what, reason: `value ${value} is too large` });
  }
  return Number(value);
}

/** True when the bytes start like a zip (a local header or an empty archive). */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && (u32(head, 0) === SIG_LOCAL || u32(head, 0) === SIG_EOCD);
}

/** Reads the central directory; member data is read only on demand. */
export async function openZip(source: ByteSource): Promise<ZipArchive> {
  const path = source.name;
  const bad = (what: string, reason: string) => ferryError('FERRY_ZIP_STRUCTURE', { path, what, reason });
  const tailLength = Math.min(source.size, MAX_EOCD_SEARCH);
  const tail = await source.read(source.size - tailLength, tailLength);
  let eocd = -1;
  for (let at = tail.length - 22; at >= 0; at--) {
    if (tail[at] === 0x50 && u32(tail, at) === SIG_EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw bad('end of central directory', 'not found');
  const eocdOffset = source.size - tailLength + eocd;
  let count = u16(tail, eocd + 10);
  let cdSize = u32(tail, eocd + 12);
  let cdOffset = u32(tail, eocd + 16);
  let cdEnd = eocdOffset;

  // ZIP64: the locator sits right before the EOCD and points at the 64-bit record (APPNOTE
  // 4.3.14). PyTorch's writer (miniz) always emits both, even for small archives, so the
  // central directory then ends at the 64-bit record, not at the EOCD.
  const needs64 = count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff;
  const locator = eocdOffset >= 20 ? await source.read(eocdOffset - 20, 20) : undefined;
  if (locator && u32(locator, 0) === SIG_EOCD64_LOCATOR) {
    const recordOffset = u64(locator, 8, path, 'zip64 record offset');
    // With prepended data the recorded offset is short by the prefix; the record usually sits
    // right before the locator (56 bytes without an extensible data sector): try there first.
    let record: Uint8Array | undefined;
    let at = -1;
    for (const candidate of [eocdOffset - 20 - 56, recordOffset]) {
      if (candidate < 0 || candidate + 56 > eocdOffset - 20) continue;
      const bytes = await source.read(candidate, 56);
      if (u32(bytes, 0) === SIG_EOCD64) {
        record = bytes;
        at = candidate;
        break;
      }
    }
    if (!record) {
      if (needs64) throw bad('zip64 end record', 'bad signature');
    } else {
      count = u64(record, 32, path, 'entry count');
      cdSize = u64(record, 40, path, 'central directory size');
      cdOffset = u64(record, 48, path, 'central directory offset');
      cdEnd = at;
    }
  } else if (needs64) {
    throw bad('zip64 locator', 'missing');
  }
  if (count > MAX_ZIP_ENTRIES) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'zip entry count',
      value: count,
      limit: MAX_ZIP_ENTRIES,
      reason: 'CWE-770',
    });
  }
  if (cdSize > cdEnd) throw bad('central directory', `size ${cdSize} exceeds the archive`);
  // Data prepended to the archive shifts every offset; the central directory ends where the
  // end record begins, which tells the real start (what unzip -l reports as "extra bytes").
  const realCdOffset = cdEnd - cdSize;
  const prefix = realCdOffset - cdOffset;
  if (prefix < 0) throw bad('central directory', `offset ${cdOffset} points past its end`);
  const cd = await source.read(realCdOffset, cdSize);

  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cd.length || u32(cd, at) !== SIG_CENTRAL)
      throw bad(`central directory entry ${i}`, 'bad signature or truncated');
    const flags = u16(cd, at + 8);
    const method = u16(cd, at + 10);
    const crc32 = u32(cd, at + 16);
    let compressedSize = u32(cd, at + 20);
    let size = u32(cd, at + 24);
    const nameLength = u16(cd, at + 28);
    const extraLength = u16(cd, at + 30);
    const commentLength = u16(cd, at + 32);
    let localHeaderOffset = u32(cd, at + 42);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > cd.length) throw bad(`central directory entry ${i}`, 'runs past the directory');
    const nameBytes = cd.subarray(at + 46, at + 46 + nameLength);
    // Bit 11: UTF-8 names; otherwise CP437, which for the ASCII names models use is the same.
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(nameBytes);
    // ZIP64 extended information extra field (id 0x0001) carries the values that overflowed.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = u16(cd, extra);
      const length = u16(cd, extra + 2);
      if (id === 0x0001) {
        let field = extra + 4;
        const take = () => {
          if (field + 8 > extra + 4 + length) throw bad(`zip64 extra field of ${name}`, 'too short');
          const value = u64(cd, field, path, `zip64 field of ${name}`);
          field += 8;
          return value;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      extra += 4 + length;
    }
    entries.push({
      name,
      method,
      flags,
      crc32,
      compressedSize,
      size,
      localHeaderOffset: localHeaderOffset + prefix,
    });
    at = end;
  }
  // A loop, not Math.min(...spread): a million entries would overflow the call stack.
  let prefixBytes = entries.length === 0 ? prefix : Number.POSITIVE_INFINITY;
  for (const entry of entries) prefixBytes = Math.min(prefixBytes, entry.localHeaderOffset);
  return { source, entries, prefixBytes };
}

/** Offset of a member's data: after its local header, whose name and extra lengths may differ from the central copy. */
/** A member's local header as written: readers that trust it (not the central directory) see this. */
export interface LocalHeader {
  readonly name: string;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  readonly dataOffset: number;
}

/** Reads a member's local header, so a scanner can compare it with the central directory. */
export async function readLocalHeader(zip: ZipArchive, entry: ZipEntry): Promise<LocalHeader> {
  const header = await zip.source.read(entry.localHeaderOffset, 30);
  if (u32(header, 0) !== SIG_LOCAL) {
    throw ferryError('FERRY_ZIP_STRUCTURE', {
      path: zip.source.name,
      what: `local header of ${entry.name}`,
      reason: 'bad signature',
    });
  }
  const flags = u16(header, 6);
  const nameBytes = await zip.source.read(entry.localHeaderOffset + 30, u16(header, 26));
  return {
    name: new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(nameBytes),
    flags,
    method: u16(header, 8),
    crc32: u32(header, 14),
    dataOffset: entry.localHeaderOffset + 30 + u16(header, 26) + u16(header, 28),
  };
}

export async function memberDataOffset(zip: ZipArchive, entry: ZipEntry): Promise<number> {
  const header = await zip.source.read(entry.localHeaderOffset, 30);
  if (u32(header, 0) !== SIG_LOCAL) {
    throw ferryError('FERRY_ZIP_STRUCTURE', {
      path: zip.source.name,
      what: `local header of ${entry.name}`,
      reason: 'bad signature',
    });
  }
  const start = entry.localHeaderOffset + 30 + u16(header, 26) + u16(header, 28);
  if (start + entry.compressedSize > zip.source.size) {
    throw ferryError('FERRY_TRUNCATED', {
      path: zip.source.name,
      what: `zip member ${entry.name}`,
      offset: start,
      size: zip.source.size,
    });
  }
  return start;
}

/**
 * A member as a byte source: a zero-copy window for stored members (PyTorch writes its
 * checkpoints stored and 64-byte aligned for this), inflated into memory for deflated ones.
 */
export async function openMember(zip: ZipArchive, entry: ZipEntry): Promise<ByteSource> {
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
  if (entry.method === 8) {
    if (entry.size > MAX_INFLATED_MEMBER) {
      throw ferryError('FERRY_LIMIT', {
        path: name,
        what: 'inflated size',
        value: entry.size,
        limit: MAX_INFLATED_MEMBER,
        reason: 'CWE-409',
      });
    }
    const compressed = await zip.source.read(start, entry.compressedSize);
    let inflated: Buffer;
    try {
      // maxOutputLength stops a member that lies about its size (a zip bomb) early.
      inflated = inflateRawSync(compressed, { maxOutputLength: Math.max(entry.size, 1) });
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
    if (inflated.length !== entry.size) {
      throw ferryError('FERRY_ZIP_STRUCTURE', {
        path: zip.source.name,
        what: `member ${entry.name}`,
        reason: `inflates to ${inflated.length} bytes, the directory says ${entry.size}`,
      });
    }
    return new BufferSource(inflated, name);
  }
  throw ferryError('FERRY_UNSUPPORTED', {
    path: zip.source.name,
    what: `compression method ${entry.method}`,
    reason: `member ${entry.name}`,
  });
}

export function findEntry(zip: ZipArchive, name: string): ZipEntry | undefined {
  return zip.entries.find((entry) => entry.name === name);
}
