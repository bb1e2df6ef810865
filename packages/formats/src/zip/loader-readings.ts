import { ferryError } from '../errors.js';
import type { ByteSource } from '../tensor/byte-source.js';
import { MAX_ZIP_ENTRIES } from './limits.js';

/**
 * How the loaders that matter find a zip's central directory. They differ, and an archive can
 * be built so that each sees other members (a second central directory behind a ZIP64 locator,
 * data before the archive start): ferry computes every loader's reading, never one of them.
 */
export type ZipLoader = 'miniz' | 'zipfile';

/** Where a loader finds the central directory and how it turns offsets into file positions. */
export interface DirectoryLocation {
  readonly loader: ZipLoader;
  /** File position of the end-of-central-directory record the loader settled on. */
  readonly eocdOffset: number;
  /** File position of the ZIP64 end record it used, when it used one. */
  readonly zip64RecordOffset?: number;
  /** File position of the central directory. */
  readonly cdStart: number;
  readonly cdSize: number;
  /** Entries the loader parses; undefined: it parses until cdSize bytes are used (CPython). */
  readonly count?: number;
  /** Added to every local header offset in the directory (CPython's `concat`; 0 for miniz). */
  readonly shift: number;
}

/** One central directory entry as a loader reads it. */
export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflate; others are reported, not read. */
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  /** File position of the local header (the directory's offset plus the loader's shift). */
  readonly localHeaderOffset: number;
}

/** One loader's view of the archive. */
export interface ZipReading {
  readonly loader: ZipLoader;
  readonly location: DirectoryLocation;
  readonly entries: readonly ZipEntry[];
}

/** The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes (APPNOTE 4.3.16). */
export const MAX_EOCD_SEARCH = 22 + 0xffff;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;

export function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}
export function u32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
}
function u64(b: Uint8Array, at: number, path: string, what: string): number {
  const value = new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw ferryError('FERRY_ZIP_STRUCTURE', { path, what, reason: `value ${value} is too large` });
  }
  return Number(value);
}

/** File position of the last end record with 22 bytes after it in the tail, or -1. */
export async function findEndRecord(source: ByteSource): Promise<number> {
  const tailLength = Math.min(source.size, MAX_EOCD_SEARCH);
  const tail = await source.read(source.size - tailLength, tailLength);
  for (let at = tail.length - 22; at >= 0; at--) {
    if (tail[at] === 0x50 && u32(tail, at) === SIG_EOCD) return source.size - tailLength + at;
  }
  return -1;
}

interface EndRecord {
  readonly count: number;
  /** Entries on this disk: miniz refuses an archive where it differs from `count`. */
  readonly countHere: number;
  readonly cdSize: number;
  readonly cdOffset: number;
}

async function readEnd(source: ByteSource, at: number): Promise<EndRecord> {
  const b = await source.read(at, 22);
  return { count: u16(b, 10), countHere: u16(b, 8), cdSize: u32(b, 12), cdOffset: u32(b, 16) };
}

async function readZip64(source: ByteSource, at: number): Promise<EndRecord | undefined> {
  if (at < 0 || at + 56 > source.size) return undefined;
  const b = await source.read(at, 56);
  if (u32(b, 0) !== SIG_EOCD64) return undefined;
  const path = source.name;
  return {
    count: u64(b, 32, path, 'zip64 entry count'),
    countHere: u64(b, 24, path, 'zip64 entry count on this disk'),
    cdSize: u64(b, 40, path, 'zip64 central directory size'),
    cdOffset: u64(b, 48, path, 'zip64 central directory offset'),
  };
}

/**
 * torch 1.13's PyTorchStreamReader (miniz 2.x mz_zip_reader_read_central_dir): the last end
 * record; if a ZIP64 locator sits right before it, the ZIP64 record AT THE OFFSET THE LOCATOR
 * GIVES; the central directory at the absolute offset the record gives, `count` entries. miniz
 * never corrects for data before the archive (torch.load only treats files starting with
 * PK\x03\x04 as zips anyway: torch/serialization.py _is_zipfile).
 */
export async function locateAsMiniz(source: ByteSource, eocd: number): Promise<DirectoryLocation> {
  const path = source.name;
  const bad = (what: string, reason: string) =>
    ferryError('FERRY_ZIP_STRUCTURE', { path, what: `${what} (as torch's miniz reads it)`, reason });
  let end = await readEnd(source, eocd);
  let zip64RecordOffset: number | undefined;
  if (eocd >= 20 + 56) {
    const locator = await source.read(eocd - 20, 20);
    if (u32(locator, 0) === SIG_EOCD64_LOCATOR) {
      const at = u64(locator, 8, path, 'zip64 locator offset');
      if (at > source.size - 56) throw bad('zip64 locator', `offset ${at} is past the end`);
      const record = await readZip64(source, at);
      if (record) {
        end = record;
        zip64RecordOffset = at;
      }
    }
  }
  if (end.cdOffset + end.cdSize > source.size)
    throw bad('central directory', `offset ${end.cdOffset} + size ${end.cdSize} is past the end`);
  if (end.count !== end.countHere)
    throw bad('end record', `${end.countHere} entries on this disk, ${end.count} in all`);
  if (end.cdSize < end.count * 46) throw bad('central directory', `too small for ${end.count} entries`);
  return {
    loader: 'miniz',
    eocdOffset: eocd,
    ...(zip64RecordOffset !== undefined && { zip64RecordOffset }),
    cdStart: end.cdOffset,
    cdSize: end.cdSize,
    count: end.count,
    shift: 0,
  };
}

/**
 * CPython's zipfile (_EndRecData, _EndRecData64, _RealGetContents; numpy.load reads .npz with
 * it): the last end record; a ZIP64 locator right before it means the ZIP64 record is the 56
 * bytes RIGHT BEFORE THE LOCATOR (the locator's offset is ignored); the directory is taken to end
 * where those records begin, so data before the archive shifts every offset by `concat`; entries
 * are parsed until the directory's size is used up (the count is ignored).
 */
export async function locateAsZipfile(source: ByteSource, eocd: number): Promise<DirectoryLocation> {
  const path = source.name;
  const bad = (what: string, reason: string) =>
    ferryError('FERRY_ZIP_STRUCTURE', { path, what: `${what} (as CPython's zipfile reads it)`, reason });
  let end = await readEnd(source, eocd);
  let zip64RecordOffset: number | undefined;
  if (eocd >= 20) {
    const locator = await source.read(eocd - 20, 20);
    if (u32(locator, 0) === SIG_EOCD64_LOCATOR) {
      if (u32(locator, 4) !== 0 || u32(locator, 16) > 1) throw bad('zip64 locator', 'spans several disks');
      const record = await readZip64(source, eocd - 20 - 56);
      if (record) {
        end = record;
        zip64RecordOffset = eocd - 20 - 56;
      }
    }
  }
  const concat = (zip64RecordOffset ?? eocd) - end.cdSize - end.cdOffset;
  const cdStart = end.cdOffset + concat;
  if (cdStart < 0) throw bad('central directory', `size ${end.cdSize} exceeds the archive`);
  if (concat < 0) throw bad('central directory', `offset ${end.cdOffset} points past its end`);
  return {
    loader: 'zipfile',
    eocdOffset: eocd,
    ...(zip64RecordOffset !== undefined && { zip64RecordOffset }),
    cdStart,
    cdSize: end.cdSize,
    shift: concat,
  };
}

/** The central directory's entries as `location` says to read them. */
export async function readEntries(source: ByteSource, location: DirectoryLocation): Promise<ZipEntry[]> {
  const path = source.name;
  const bad = (what: string, reason: string) => ferryError('FERRY_ZIP_STRUCTURE', { path, what, reason });
  const { cdStart, cdSize, count, shift } = location;
  if (count !== undefined && count > MAX_ZIP_ENTRIES) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'zip entry count',
      value: count,
      limit: MAX_ZIP_ENTRIES,
      reason: 'CWE-770',
    });
  }
  if (cdStart + cdSize > source.size) throw bad('central directory', `size ${cdSize} exceeds the archive`);
  const cd = await source.read(cdStart, cdSize);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; count === undefined ? at < cd.length : i < count; i++) {
    if (i >= MAX_ZIP_ENTRIES) {
      throw ferryError('FERRY_LIMIT', {
        path,
        what: 'zip entry count',
        value: `> ${MAX_ZIP_ENTRIES}`,
        limit: MAX_ZIP_ENTRIES,
        reason: 'CWE-770',
      });
    }
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
    // miniz refuses a stored member whose sizes differ, and one whose data would end past the file.
    if (
      location.loader === 'miniz' &&
      ((method === 0 && size !== compressedSize) || localHeaderOffset + 30 + compressedSize > source.size)
    ) {
      throw bad(`central directory entry ${name} (as torch's miniz reads it)`, 'sizes do not fit');
    }
    entries.push({
      name,
      method,
      flags,
      crc32,
      compressedSize,
      size,
      localHeaderOffset: localHeaderOffset + shift,
    });
    at = end;
  }
  return entries;
}

/** Reads the archive as `loader` does; a FerryError when that loader would refuse it. */
export async function readAs(source: ByteSource, loader: ZipLoader, eocd: number): Promise<ZipReading> {
  const location =
    loader === 'miniz' ? await locateAsMiniz(source, eocd) : await locateAsZipfile(source, eocd);
  return { loader, location, entries: await readEntries(source, location) };
}
