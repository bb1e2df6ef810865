/**
 * HPACK (RFC 7541) as far as the lean gRPC front and the bench's load client need it: blocks of
 * literal fields (never indexed, no Huffman: built once where constant, so encoding costs nothing
 * per call) and a full decoder for the peer's blocks (node's client and server index and
 * Huffman-code, and every block must be decoded in order to keep the dynamic table in step).
 */
import { huffmanDecode } from './hpack-huffman.js';

export type HeaderField = readonly [name: string, value: string];

/** RFC 7541 Appendix A, indices 1..61. */
const STATIC_TABLE: readonly HeaderField[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/** SETTINGS_HEADER_TABLE_SIZE's default (RFC 7540 6.5.2): neither the front nor the load client announces another. */
export const DEFAULT_TABLE_BYTES = 4096;
/**
 * Integers above this are refused: no length, index or table size the client can meet comes near,
 * and a longer run of continuation bytes is an attack on the decoder (RFC 7541 7.4, CWE-190).
 */
const MAX_INTEGER = 2 ** 31 - 1;
/** An entry's size in the dynamic table: its octets plus 32 (RFC 7541 4.1). */
const ENTRY_OVERHEAD = 32;

/** A block the decoder cannot read: a COMPRESSION_ERROR of the whole connection (RFC 7540 4.3). */
export class HpackError extends Error {}

/**
 * One connection's decoding context: the dynamic table lives across blocks, so one decoder reads
 * every block the peer sends on the connection, in order.
 */
export class HpackDecoder {
  /** Newest entry last; the table holds at most ~128 entries (4096 / 32), so shift() is cheap. */
  private readonly table: HeaderField[] = [];
  private tableBytes = 0;
  private maxTableBytes: number;

  constructor(private readonly settingsTableBytes = DEFAULT_TABLE_BYTES) {
    this.maxTableBytes = settingsTableBytes;
  }

  /** The dynamic table, newest first (index 62 first), and its size: for tests. */
  get dynamicTable(): { entries: HeaderField[]; bytes: number } {
    return { entries: [...this.table].reverse(), bytes: this.tableBytes };
  }

  decode(block: Uint8Array): HeaderField[] {
    const fields: HeaderField[] = [];
    const cursor = { at: 0 };
    let sizeUpdateAllowed = true; // only before the first field (RFC 7541 4.2)
    while (cursor.at < block.length) {
      const first = block[cursor.at]!;
      if (first & 0x80) {
        // 6.1 indexed header field
        fields.push(this.entry(readInteger(block, cursor, 7)));
      } else if (first & 0x40) {
        // 6.2.1 literal with incremental indexing
        const field = this.literal(block, cursor, 6);
        this.insert(field);
        fields.push(field);
      } else if (first & 0x20) {
        // 6.3 dynamic table size update
        if (!sizeUpdateAllowed) throw new HpackError('HPACK table size update after a header field');
        const size = readInteger(block, cursor, 5);
        if (size > this.settingsTableBytes)
          throw new HpackError(
            `HPACK table size update to ${size} above the ${this.settingsTableBytes} allowed`,
          );
        this.maxTableBytes = size;
        this.evict(0);
        continue;
      } else {
        // 6.2.2 / 6.2.3 literal without indexing / never indexed
        fields.push(this.literal(block, cursor, 4));
      }
      sizeUpdateAllowed = false;
    }
    return fields;
  }

  private entry(index: number): HeaderField {
    if (index === 0) throw new HpackError('HPACK index 0');
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const field = this.table[this.table.length - (index - STATIC_TABLE.length)];
    if (!field)
      throw new HpackError(`HPACK index ${index} beyond the ${this.table.length}-entry dynamic table`);
    return field;
  }

  private literal(block: Uint8Array, cursor: { at: number }, prefixBits: number): HeaderField {
    const index = readInteger(block, cursor, prefixBits);
    const name = index === 0 ? readString(block, cursor) : this.entry(index)[0];
    return [name, readString(block, cursor)];
  }

  private insert(field: HeaderField): void {
    const size = field[0].length + field[1].length + ENTRY_OVERHEAD;
    // RFC 7541 4.4: an entry larger than the table empties it and is not added
    this.evict(Math.min(size, this.maxTableBytes + 1));
    if (size > this.maxTableBytes) return;
    this.table.push(field);
    this.tableBytes += size;
  }

  /** Evicts the oldest entries until `room` more bytes fit. */
  private evict(room: number): void {
    while (this.tableBytes + room > this.maxTableBytes && this.table.length > 0) {
      const [name, value] = this.table.shift()!;
      this.tableBytes -= name.length + value.length + ENTRY_OVERHEAD;
    }
  }
}

/** RFC 7541 5.1: an integer with an N-bit prefix, then 7 bits per continuation byte. */
export function readInteger(block: Uint8Array, cursor: { at: number }, prefixBits: number): number {
  if (cursor.at >= block.length) throw new HpackError('HPACK block ends inside an integer');
  const mask = (1 << prefixBits) - 1;
  let value = block[cursor.at++]! & mask;
  if (value < mask) return value;
  for (let shift = 0; ; shift += 7) {
    if (cursor.at >= block.length) throw new HpackError('HPACK block ends inside an integer');
    const byte = block[cursor.at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (value > MAX_INTEGER) throw new HpackError(`HPACK integer above ${MAX_INTEGER}`);
    if (!(byte & 0x80)) return value;
  }
}

/** RFC 7541 5.2: H bit, 7-bit prefixed length, the octets (Huffman-coded when H is set). */
function readString(block: Uint8Array, cursor: { at: number }): string {
  if (cursor.at >= block.length) throw new HpackError('HPACK block ends before a string');
  const huffman = (block[cursor.at]! & 0x80) !== 0;
  const length = readInteger(block, cursor, 7);
  if (length > block.length - cursor.at)
    throw new HpackError(`HPACK string of ${length} octets, ${block.length - cursor.at} left in the block`);
  const bytes = block.subarray(cursor.at, cursor.at + length);
  cursor.at += length;
  if (!huffman) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  try {
    return huffmanDecode(bytes);
  } catch (error) {
    throw new HpackError((error as Error).message);
  }
}

/** RFC 7541 5.1 encoding of `value` with an N-bit prefix whose high bits are `flags`. */
function writeInteger(out: number[], value: number, prefixBits: number, flags: number): void {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out.push(flags | value);
    return;
  }
  out.push(flags | mask);
  let rest = value - mask;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

/**
 * A header block of literal fields without indexing and without Huffman (RFC 7541 6.2.2): it
 * leaves the server's dynamic table alone, so the same bytes are right for every request.
 */
export function literalHeaderBlock(fields: readonly HeaderField[]): Buffer {
  const out: number[] = [];
  for (const [name, value] of fields) {
    out.push(0x00);
    for (const text of [name, value]) {
      const bytes = Buffer.from(text, 'latin1');
      writeInteger(out, bytes.length, 7, 0x00);
      out.push(...bytes);
    }
  }
  return Buffer.from(out);
}
