import { type FerryError, ferryError, isFerryError } from '../errors.js';
import type { ByteSource } from '../tensor/byte-source.js';
import {
  findEndRecord,
  readAs,
  u16,
  u32,
  type ZipEntry,
  type ZipLoader,
  type ZipReading,
} from './loader-readings.js';

export type { ZipEntry } from './loader-readings.js';

const SIG_LOCAL = 0x04034b50;
const SIG_EOCD = 0x06054b50;

export interface ZipArchive {
  readonly source: ByteSource;
  /** The members as the loader ferry follows reads them (`loader`). */
  readonly entries: readonly ZipEntry[];
  /** Bytes before the first local header (a prepended stub): legitimate in zip, suspicious in a model. */
  readonly prefixBytes: number;
  /** Whose reading `entries` is: torch's miniz for files starting with a local header, else CPython's zipfile. */
  readonly loader: ZipLoader;
  /** Every loader's reading that parses (one per loader); a scan reads the union of their members. */
  readonly readings: readonly ZipReading[];
}

/** True when the bytes start like a zip (a local header or an empty archive). */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && (u32(head, 0) === SIG_LOCAL || u32(head, 0) === SIG_EOCD);
}

/**
 * Reads the central directory as each loader would (loader-readings.ts); member data is read
 * only on demand. Refused only when no loader can read it. `entries` follows torch's miniz when
 * the file starts with a local header (torch.load's test for a zip) and miniz can read it, else
 * CPython's zipfile (or `prefer`'s, when it can); where the readings differ, scanners report it
 * (reading-differences.ts).
 */
export async function openZip(source: ByteSource, prefer?: ZipLoader): Promise<ZipArchive> {
  const eocd = await findEndRecord(source);
  if (eocd < 0)
    throw ferryError('FERRY_ZIP_STRUCTURE', {
      path: source.name,
      what: 'end of central directory',
      reason: 'not found',
    });
  const readings: ZipReading[] = [];
  const failures: FerryError[] = [];
  for (const loader of ['miniz', 'zipfile'] as const) {
    try {
      readings.push(await readAs(source, loader, eocd));
    } catch (error) {
      if (!isFerryError(error)) throw error;
      failures.push(error);
    }
  }
  if (readings.length === 0) {
    // Prefer a limit over a structure error, then CPython's message (the more forgiving reader).
    const limit = failures.find((e) => e.code === 'FERRY_LIMIT');
    throw limit ?? failures[failures.length - 1];
  }
  const head = await source.read(0, Math.min(4, source.size));
  const startsLocal = head.length === 4 && u32(head, 0) === SIG_LOCAL;
  const primary =
    readings.find((r) => r.loader === (prefer ?? (startsLocal ? 'miniz' : 'zipfile'))) ?? readings[0]!;
  const entries = primary.entries;
  // A loop, not Math.min(...spread): a million entries would overflow the call stack.
  let prefixBytes = entries.length === 0 ? primary.location.shift : Number.POSITIVE_INFINITY;
  for (const entry of entries) prefixBytes = Math.min(prefixBytes, entry.localHeaderOffset);
  return { source, entries, prefixBytes, loader: primary.loader, readings };
}

/** A member's local header as written: readers that trust it (not the central directory) see this. */
export interface LocalHeader {
  readonly name: string;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  /** Sizes as the local header gives them (0 when bit 3 defers them to a data descriptor). */
  readonly compressedSize: number;
  readonly size: number;
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
    compressedSize: u32(header, 18),
    size: u32(header, 22),
    dataOffset: entry.localHeaderOffset + 30 + u16(header, 26) + u16(header, 28),
  };
}

/** Offset of a member's data: after its local header, whose name and extra lengths may differ from the central copy. */
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

export function findEntry(zip: ZipArchive, name: string): ZipEntry | undefined {
  return zip.entries.find((entry) => entry.name === name);
}
