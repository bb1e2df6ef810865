import { constants, crc32, deflateRawSync } from 'node:zlib';

/**
 * Writes zip archives byte by byte (APPNOTE 4.3) for attack tests (formats, registry): members whose local header
 * and central directory disagree, lying sizes, ZIP64 records placed where loaders differ.
 */
export interface MemberSpec {
  readonly name: string;
  readonly data: Uint8Array;
  /** 0 stored (default), 8 deflate. */
  readonly method?: 0 | 8;
  /** Inflated size the directory claims (default: the real one). */
  readonly claimedSize?: number;
  /** Name written in the local header only (default: `name`). */
  readonly localName?: string;
  /** Compressed body to write instead of compressing `data` (a prepared bomb). */
  readonly body?: Uint8Array;
}

export interface WrittenMember {
  readonly spec: MemberSpec;
  readonly offset: number;
  readonly body: Uint8Array;
  readonly crc: number;
}

/** Local headers and data of `members`, the first starting at `base`. */
export function localSection(
  members: readonly MemberSpec[],
  base = 0,
): { bytes: Buffer; written: WrittenMember[] } {
  const parts: Buffer[] = [];
  const written: WrittenMember[] = [];
  let at = base;
  for (const spec of members) {
    const method = spec.method ?? 0;
    const body = spec.body ?? (method === 8 ? deflateRawSync(spec.data) : spec.data);
    const name = Buffer.from(spec.localName ?? spec.name);
    const header = Buffer.alloc(30);
    const crc = crc32(spec.data) >>> 0;
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(method, 8);
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(body.length, 18);
    header.writeUInt32LE(spec.claimedSize ?? spec.data.length, 22);
    header.writeUInt16LE(name.length, 26);
    parts.push(header, name, Buffer.from(body));
    written.push({ spec, offset: at, body, crc });
    at += 30 + name.length + body.length;
  }
  return { bytes: Buffer.concat(parts), written };
}

/** A central directory for members written at the given offsets. */
export function centralDirectory(written: readonly WrittenMember[]): Buffer {
  const parts: Buffer[] = [];
  for (const { spec, offset, body, crc } of written) {
    const name = Buffer.from(spec.name);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(spec.method ?? 0, 10);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(body.length, 20);
    entry.writeUInt32LE(spec.claimedSize ?? spec.data.length, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    parts.push(entry, name);
  }
  return Buffer.concat(parts);
}

export function endRecord(count: number, cdSize: number, cdOffset: number, commentLength = 0): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(cdOffset, 16);
  end.writeUInt16LE(commentLength, 20);
  return end;
}

export function zip64Record(count: number, cdSize: number, cdOffset: number): Buffer {
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(count), 24);
  record.writeBigUInt64LE(BigInt(count), 32);
  record.writeBigUInt64LE(BigInt(cdSize), 40);
  record.writeBigUInt64LE(BigInt(cdOffset), 48);
  return record;
}

export function zip64Locator(recordOffset: number): Buffer {
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(recordOffset), 8);
  locator.writeUInt32LE(1, 16);
  return locator;
}

/** A plain archive: local section, directory, end record; `prefix` bytes before it all. */
export function buildZip(members: readonly MemberSpec[], prefix: Uint8Array = new Uint8Array(0)): Buffer {
  const { bytes, written } = localSection(members);
  const cd = centralDirectory(written);
  // Offsets as a writer unaware of the prefix records them (CPython's `concat` finds the real ones).
  return Buffer.concat([Buffer.from(prefix), bytes, cd, endRecord(written.length, cd.length, bytes.length)]);
}

/**
 * The #24.1 attack shape: two archives' members, two central directories each with its ZIP64
 * record; the locator points at the FIRST record (torch's miniz follows it), while the second
 * record sits right before the locator (CPython's zipfile reads that one).
 */
export function twoDirectoryZip64(
  forMiniz: readonly MemberSpec[],
  forZipfile: readonly MemberSpec[],
): Buffer {
  // zipfile's members first, at offset 0: its reading looks like a plain torch.save archive.
  const b = localSection(forZipfile);
  const a = localSection(forMiniz, b.bytes.length);
  const cdA = centralDirectory(a.written);
  const cdB = centralDirectory(b.written);
  const cdAOffset = b.bytes.length + a.bytes.length;
  const recA = cdAOffset + cdA.length;
  const cdBOffset = recA + 56;
  const end = endRecord(0xffff, 0xffffffff, 0xffffffff);
  return Buffer.concat([
    b.bytes,
    a.bytes,
    cdA,
    zip64Record(a.written.length, cdA.length, cdAOffset),
    cdB,
    zip64Record(b.written.length, cdB.length, cdBOffset),
    zip64Locator(recA),
    end,
  ]);
}

/** pickle.loads(PAYLOAD) runs os.system('echo pwned') (protocol 2: PROTO, GLOBAL, BINUNICODE, TUPLE1, REDUCE, STOP). */
export const PAYLOAD = Buffer.concat([
  Buffer.from([0x80, 0x02]),
  Buffer.from('cos\nsystem\n', 'latin1'),
  Buffer.from([0x58, 10, 0, 0, 0]),
  Buffer.from('echo pwned', 'latin1'),
  Buffer.from([0x85, 0x52, 0x2e]),
]);

/** A benign pickle: the int 3 (PROTO 2, BININT1 3, STOP). */
export const BENIGN = Buffer.from([0x80, 0x02, 0x4b, 0x03, 0x2e]);

/**
 * A raw deflate stream of `mib` MiB of zeros, built without deflating them all: one MiB
 * compressed with a sync flush (a byte-aligned, non-final block whose back-references stay in
 * zeros) repeated, then an empty final fixed-Huffman block (RFC 1951 3.2.6: bits 1, 01, 0000000).
 */
export function zerosDeflate(mib: number): Buffer {
  const block = deflateRawSync(new Uint8Array(1024 * 1024), { finishFlush: constants.Z_SYNC_FLUSH });
  return Buffer.concat([...Array.from({ length: mib }, () => block), Buffer.from([0x03, 0x00])]);
}
