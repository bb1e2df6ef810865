import { ferryError } from '../errors.js';
import type { ByteSource } from '../tensor/byte-source.js';
import { hex32 } from './checked-range.js';
import { crc32c, crc32cUnmask } from './crc32c.js';
import { snappyDecompress } from './snappy.js';

/**
 * A reader for the LevelDB table format that TensorFlow's TensorBundle uses for variables.index
 * (tensorflow/tsl/lib/io/{format,block,table}.cc; leveldb doc/table_format.md): data blocks of
 * prefix-compressed sorted keys with restart points, an index block mapping each data block's
 * last key to its handle, and a fixed 48-byte footer.
 */

/** Footer: two BlockHandles of up to 20 bytes each (padded to 40), then the 8-byte magic. */
export const FOOTER_BYTES = 48;
/** kTableMagicNumber (tsl/lib/io/format.h), stored little-endian. */
export const TABLE_MAGIC = 0xdb4775248b80fb57n;
/** Each block is followed by a type byte and a masked crc32c of block + type (format.h kBlockTrailerSize). */
export const BLOCK_TRAILER_BYTES = 5;
/** tsl/lib/io/table_options.h CompressionType: kNoCompression = 0, kSnappyCompression = 1. */
const NO_COMPRESSION = 0;
const SNAPPY_COMPRESSION = 1;

/**
 * One block is read whole into memory. TensorFlow writes 4 KiB blocks; a single BundleEntryProto of
 * a heavily partitioned variable can make one larger, but never near this (CWE-770).
 */
export const MAX_SSTABLE_BLOCK_BYTES = 64 * 1024 * 1024;
/** Entries in one table: bounds the memory of the decoded index (CWE-770). */
export const MAX_SSTABLE_ENTRIES = 1_000_000;

export interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

export interface TableEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

class ByteCursor {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
    private readonly fail: (reason: string, at: number) => never,
  ) {}

  /** A varint of at most 64 bits, converted to a safe integer (offsets and sizes in a file). */
  varint(what: string): number {
    let result = 0n;
    let shift = 0n;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail(`${what}: varint runs past the end`, start);
      const byte = this.bytes[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        if (result > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${result} is too large`, start);
        return Number(result);
      }
      shift += 7n;
    }
    this.fail(`${what}: varint longer than 10 bytes`, start);
  }
}

function tableError(path: string, what: string, offset: number, reason: string): never {
  throw ferryError('FERRY_SSTABLE_STRUCTURE', { path, what, offset, reason });
}

/** Decodes the footer: metaindex and index handles and the magic number. */
export function decodeFooter(
  footer: Uint8Array,
  fileSize: number,
  path: string,
): { metaindex: BlockHandle; index: BlockHandle } {
  const at = fileSize - FOOTER_BYTES;
  if (footer.length !== FOOTER_BYTES)
    tableError(path, 'footer', at, `the file is shorter than ${FOOTER_BYTES} bytes`);
  const view = new DataView(footer.buffer, footer.byteOffset, footer.byteLength);
  const magic = view.getBigUint64(40, true);
  if (magic !== TABLE_MAGIC) {
    tableError(path, 'footer', at + 40, `magic 0x${magic.toString(16)} is not 0x${TABLE_MAGIC.toString(16)}`);
  }
  const cur = new ByteCursor(footer, 0, 40, (reason, pos) => tableError(path, 'footer', at + pos, reason));
  const metaindex = { offset: cur.varint('metaindex offset'), size: cur.varint('metaindex size') };
  const index = { offset: cur.varint('index offset'), size: cur.varint('index size') };
  for (const [name, handle] of [
    ['metaindex', metaindex],
    ['index', index],
  ] as const) {
    checkHandle(handle, at, path, `${name} block handle`, at);
  }
  return { metaindex, index };
}

function checkHandle(handle: BlockHandle, limit: number, path: string, what: string, at: number): void {
  if (handle.size > MAX_SSTABLE_BLOCK_BYTES) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: `${what} size`,
      value: handle.size,
      limit: MAX_SSTABLE_BLOCK_BYTES,
      reason: 'a table block is read whole into memory (CWE-770)',
    });
  }
  if (handle.offset + handle.size + BLOCK_TRAILER_BYTES > limit) {
    tableError(
      path,
      what,
      at,
      `block [${handle.offset}, ${handle.offset + handle.size}) and its trailer run past byte ${limit}`,
    );
  }
}

/**
 * Reads one block, checks its trailer's masked crc32c (over the stored bytes and the type byte,
 * format.cc ReadBlock) and returns its contents, decompressed.
 */
export async function readBlock(
  source: ByteSource,
  handle: BlockHandle,
  limit: number,
  what: string,
): Promise<Uint8Array> {
  checkHandle(handle, limit, source.name, what, handle.offset);
  const raw = await source.read(handle.offset, handle.size + BLOCK_TRAILER_BYTES);
  const type = raw[handle.size]!;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const stored = crc32cUnmask(view.getUint32(handle.size + 1, true));
  const actual = crc32c(raw.subarray(0, handle.size + 1));
  if (stored !== actual) {
    throw ferryError('FERRY_SAVEDMODEL_CHECKSUM', {
      path: source.name,
      what,
      offset: handle.offset,
      actual: hex32(actual),
      expected: hex32(stored),
    });
  }
  if (type === NO_COMPRESSION) return raw.subarray(0, handle.size);
  if (type === SNAPPY_COMPRESSION) {
    return snappyDecompress(
      raw.subarray(0, handle.size),
      MAX_SSTABLE_BLOCK_BYTES,
      source.name,
      handle.offset,
    );
  }
  throw ferryError('FERRY_UNSUPPORTED', {
    path: source.name,
    what: `${what} compression type ${type}`,
    reason: 'TensorFlow tables use no compression (0) or snappy (1)',
  });
}

/**
 * Decodes a block's entries (block.cc): each is varint shared, varint non_shared, varint
 * value_length, the key's non-shared suffix and the value; a restart array of uint32 offsets and
 * its count close the block. Entries at restart points must share nothing; keys must increase.
 */
export function decodeBlock(
  block: Uint8Array,
  path: string,
  blockOffset: number,
  what: string,
): TableEntry[] {
  const fail = (reason: string, at: number): never => tableError(path, what, blockOffset + at, reason);
  if (block.length < 4) fail('block is shorter than its restart count', 0);
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const numRestarts = view.getUint32(block.length - 4, true);
  const maxRestarts = Math.floor((block.length - 4) / 4);
  if (numRestarts > maxRestarts)
    fail(`${numRestarts} restart points do not fit a block of ${block.length} bytes`, block.length - 4);
  const restartsAt = block.length - 4 - numRestarts * 4;
  const restarts = new Set<number>();
  let previousRestart = -1;
  for (let r = 0; r < numRestarts; r++) {
    const offset = view.getUint32(restartsAt + r * 4, true);
    if (offset >= restartsAt || offset <= previousRestart) {
      fail(`restart point ${r} (${offset}) is out of order or outside the entries`, restartsAt + r * 4);
    }
    previousRestart = offset;
    restarts.add(offset);
  }
  if (restartsAt > 0 && !restarts.has(0)) fail('the first entry is not a restart point', restartsAt);
  const entries: TableEntry[] = [];
  const cur = new ByteCursor(block, 0, restartsAt, fail);
  let previous = new Uint8Array(0);
  while (cur.pos < restartsAt) {
    const entryAt = cur.pos;
    const shared = cur.varint('shared key length');
    const nonShared = cur.varint('key suffix length');
    const valueLength = cur.varint('value length');
    if (restarts.has(entryAt) && shared !== 0)
      fail(`entry at a restart point shares ${shared} key bytes`, entryAt);
    if (shared > previous.length)
      fail(`entry shares ${shared} bytes of a ${previous.length}-byte key`, entryAt);
    if (nonShared + valueLength > restartsAt - cur.pos) fail('entry runs past the end of the block', entryAt);
    const key = new Uint8Array(shared + nonShared);
    key.set(previous.subarray(0, shared), 0);
    key.set(block.subarray(cur.pos, cur.pos + nonShared), shared);
    cur.pos += nonShared;
    const value = block.subarray(cur.pos, cur.pos + valueLength);
    cur.pos += valueLength;
    if (entries.length > 0 && compareBytes(previous, key) >= 0)
      fail('keys are not in strictly increasing order', entryAt);
    if (entries.length >= MAX_SSTABLE_ENTRIES) {
      throw ferryError('FERRY_LIMIT', {
        path,
        what: 'table entries',
        value: entries.length + 1,
        limit: MAX_SSTABLE_ENTRIES,
        reason: 'every entry is kept in memory (CWE-770)',
      });
    }
    entries.push({ key, value });
    previous = key;
  }
  return entries;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function decodeBlockHandle(value: Uint8Array, path: string, at: number): BlockHandle {
  const cur = new ByteCursor(value, 0, value.length, (reason) => tableError(path, 'index entry', at, reason));
  return { offset: cur.varint('block offset'), size: cur.varint('block size') };
}

/**
 * Every entry of the table in key order: footer -> index block -> each data block. Checks that
 * keys increase across blocks and that each block's keys do not pass its index key.
 */
export async function readTable(source: ByteSource): Promise<TableEntry[]> {
  const path = source.name;
  if (source.size < FOOTER_BYTES)
    tableError(
      path,
      'footer',
      0,
      `the file has ${source.size} bytes, fewer than the ${FOOTER_BYTES}-byte footer`,
    );
  const footerAt = source.size - FOOTER_BYTES;
  const { index } = decodeFooter(await source.read(footerAt, FOOTER_BYTES), source.size, path);
  const indexBlock = await readBlock(source, index, footerAt, 'index block');
  const indexEntries = decodeBlock(indexBlock, path, index.offset, 'index block');
  const out: TableEntry[] = [];
  let dataEnd = 0;
  for (const { key: separator, value } of indexEntries) {
    const handle = decodeBlockHandle(value, path, index.offset);
    // Data blocks precede the metaindex and index blocks and do not overlap (table_builder.cc).
    if (handle.offset < dataEnd)
      tableError(path, 'data block', handle.offset, `overlaps the previous block ending at ${dataEnd}`);
    const block = await readBlock(source, handle, index.offset, 'data block');
    dataEnd = handle.offset + handle.size + BLOCK_TRAILER_BYTES;
    const entries = decodeBlock(block, path, handle.offset, 'data block');
    for (const entry of entries) {
      const last = out[out.length - 1];
      if (last && compareBytes(last.key, entry.key) >= 0)
        tableError(
          path,
          'data block',
          handle.offset,
          'keys are not in strictly increasing order across blocks',
        );
      if (compareBytes(entry.key, separator) > 0)
        tableError(path, 'data block', handle.offset, 'a key is past its index entry');
      if (out.length >= MAX_SSTABLE_ENTRIES) {
        throw ferryError('FERRY_LIMIT', {
          path,
          what: 'table entries',
          value: out.length + 1,
          limit: MAX_SSTABLE_ENTRIES,
          reason: 'every entry is kept in memory (CWE-770)',
        });
      }
      out.push(entry);
    }
  }
  return out;
}
