import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { ferryError } from '../errors.js';
import type { ByteReader } from './byte-reader.js';
import { crc64Hex } from './crc64.js';
import { decodeLzma2, lzma2DictionarySize } from './lzma2.js';
import type { OutputBuffer } from './output-buffer.js';

/*
 * The .xz container (xz file format 1.1.0, tukaani.org/xz/xz-file-format.txt), as Python's
 * lzma.FORMAT_XZ and so joblib's 'xz' compressor write it: stream header, blocks (header,
 * LZMA2 data, padding, check), index, stream footer. Only the LZMA2 filter is decoded: any
 * other filter (delta, BCJ) is refused by name rather than misread.
 */

export const XZ_MAGIC = Uint8Array.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const FOOTER_MAGIC = [0x59, 0x5a];
/** Filter IDs of the xz spec (section 5.4), for a clear refusal. */
const FILTER_NAMES: Record<number, string> = {
  3: 'delta',
  4: 'BCJ x86',
  5: 'BCJ PowerPC',
  6: 'BCJ IA-64',
  7: 'BCJ ARM',
  8: 'BCJ ARM-Thumb',
  9: 'BCJ SPARC',
  10: 'BCJ ARM64',
  11: 'BCJ RISC-V',
  33: 'LZMA2',
};
const LZMA2 = 0x21;
/** Check IDs (section 2.1.1.2): 0 none, 1 CRC32, 4 CRC64, 10 SHA-256. */
const CHECK_SIZES: Record<number, number> = { 0: 0, 1: 4, 4: 8, 10: 32 };
const CHECK_NAMES: Record<number, string> = { 0: 'none', 1: 'CRC32', 4: 'CRC64', 10: 'SHA-256' };

function vli(reader: ByteReader, what: string): number {
  let value = 0;
  for (let i = 0; i < 9; i++) {
    const b = reader.byte(what);
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (i > 0 && b === 0) reader.fail(`${what}: a variable-length integer with a needless zero byte`);
      if (value > Number.MAX_SAFE_INTEGER) reader.fail(`${what}: ${value} is over 2^53`);
      return value;
    }
  }
  return reader.fail(`${what}: a variable-length integer longer than 9 bytes`);
}

function checkCrc32(reader: ByteReader, bytes: Uint8Array, what: string, at: number): void {
  const stored = reader.bytes(4, `${what} CRC32`);
  const storedValue = new DataView(stored.buffer).getUint32(0, true);
  const computed = crc32(bytes) >>> 0;
  if (storedValue !== computed) {
    throw ferryError('FERRY_COMPRESSED_CHECKSUM', {
      path: reader.path,
      format: 'xz',
      what: `${what} CRC32`,
      offset: at,
      stored: `0x${storedValue.toString(16).padStart(8, '0')}`,
      computed: `0x${computed.toString(16).padStart(8, '0')}`,
    });
  }
}

function hexOf(bytes: Uint8Array, littleEndian: boolean): string {
  const order = littleEndian ? [...bytes].reverse() : [...bytes];
  return order.map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Decodes one xz stream (header to footer) into `out`. */
export function decodeXzStream(reader: ByteReader, out: OutputBuffer): void {
  const streamAt = reader.offset;
  const header = reader.bytes(12, 'xz stream header');
  for (let i = 0; i < 6; i++) if (header[i] !== XZ_MAGIC[i]) reader.fail('no xz magic', streamAt);
  const flags = header.subarray(6, 8);
  {
    const stored = new DataView(header.buffer).getUint32(8, true);
    if (stored !== crc32(flags) >>> 0) reader.fail('the stream flags fail their CRC32', streamAt + 8);
  }
  const checkType = flags[1]! & 0x0f;
  if (flags[0] !== 0 || flags[1]! & 0xf0) reader.fail('reserved stream flag bits are set', streamAt + 6);
  const checkSize = CHECK_SIZES[checkType];
  if (checkSize === undefined) {
    throw ferryError('FERRY_UNSUPPORTED', {
      path: reader.path,
      what: `xz check type ${checkType} at byte ${streamAt + 7}`,
      reason: 'ferry verifies none, CRC32, CRC64 and SHA-256 (xz writes CRC64 by default)',
    });
  }
  const records: { unpadded: number; uncompressed: number }[] = [];
  for (;;) {
    const blockAt = reader.offset;
    const sizeByte = reader.byte('xz block header');
    if (sizeByte === 0) break; // the index indicator
    const headerSize = (sizeByte + 1) * 4;
    const rest = reader.bytes(headerSize - 5, 'xz block header');
    const full = new Uint8Array(headerSize - 4);
    full[0] = sizeByte;
    full.set(rest, 1);
    checkCrc32(reader, full, 'block header', blockAt + headerSize - 4);
    const blockFlags = full[1]!;
    if (blockFlags & 0x3c) reader.fail('reserved block flag bits are set', blockAt + 1);
    const filterCount = (blockFlags & 3) + 1;
    // Parse the header fields from the checked copy.
    let p = 2;
    const field = (what: string): number => {
      let value = 0;
      for (let i = 0; i < 9; i++) {
        if (p >= full.length) reader.fail(`${what} runs past the block header`, blockAt);
        const b = full[p++]!;
        value += (b & 0x7f) * 2 ** (7 * i);
        if ((b & 0x80) === 0) return value;
      }
      return reader.fail(`${what} is longer than 9 bytes`, blockAt);
    };
    const compressedSize = blockFlags & 0x40 ? field('compressed size') : undefined;
    const uncompressedSize = blockFlags & 0x80 ? field('uncompressed size') : undefined;
    let dictSize = 0;
    for (let f = 0; f < filterCount; f++) {
      const id = field('filter id');
      const propsSize = field('filter properties size');
      if (id !== LZMA2 || f !== filterCount - 1) {
        const name = FILTER_NAMES[id] ?? `0x${id.toString(16)}`;
        throw ferryError('FERRY_UNSUPPORTED', {
          path: reader.path,
          what: `xz filter ${name} at byte ${blockAt}`,
          reason: 'ferry decodes xz blocks with the LZMA2 filter alone (what Python lzma and joblib write)',
        });
      }
      if (propsSize !== 1 || p >= full.length)
        reader.fail('LZMA2 filter properties are not one byte', blockAt);
      const size = lzma2DictionarySize(full[p++]!);
      if (size === undefined) reader.fail('LZMA2 dictionary size byte is over 40', blockAt);
      dictSize = size;
    }
    for (; p < full.length; p++)
      if (full[p] !== 0) reader.fail('block header padding is not zero', blockAt + p);
    const dataAt = reader.offset;
    const outAt = out.pos;
    decodeLzma2(reader, out, dictSize);
    const packed = reader.offset - dataAt;
    const produced = out.pos - outAt;
    if (compressedSize !== undefined && compressedSize !== packed)
      reader.fail(
        `the block header says ${compressedSize} compressed bytes, the block has ${packed}`,
        blockAt,
      );
    if (uncompressedSize !== undefined && uncompressedSize !== produced)
      reader.fail(`the block header says ${uncompressedSize} bytes, the block holds ${produced}`, blockAt);
    for (let pad = packed; pad % 4 !== 0; pad++)
      if (reader.byte('xz block padding') !== 0) reader.fail('block padding is not zero');
    const checkAt = reader.offset;
    const stored = reader.bytes(checkSize, 'xz block check');
    if (checkType !== 0) {
      const data = out.buf.subarray(outAt, out.pos);
      let computed: string;
      if (checkType === 1) computed = (crc32(data) >>> 0).toString(16).padStart(8, '0');
      else if (checkType === 4) computed = crc64Hex(data);
      else computed = createHash('sha256').update(data).digest('hex');
      const storedHex = hexOf(stored, checkType !== 10);
      if (storedHex !== computed) {
        throw ferryError('FERRY_COMPRESSED_CHECKSUM', {
          path: reader.path,
          format: 'xz',
          what: `block ${CHECK_NAMES[checkType]}`,
          offset: checkAt,
          stored: storedHex,
          computed,
        });
      }
    }
    records.push({ unpadded: headerSize + packed + checkSize, uncompressed: produced });
  }
  // Index: the records must describe exactly the blocks that were read.
  const indexAt = reader.offset - 1;
  const count = vli(reader, 'xz index record count');
  if (count !== records.length)
    reader.fail(`the index lists ${count} blocks, the stream has ${records.length}`, indexAt);
  const indexBytes: number[] = [0];
  const encode = (v: number) => {
    let x = v;
    while (x >= 0x80) {
      indexBytes.push((x % 0x80) | 0x80);
      x = Math.floor(x / 0x80);
    }
    indexBytes.push(x);
  };
  encode(count);
  for (const r of records) {
    const unpadded = vli(reader, 'xz index record');
    const uncompressed = vli(reader, 'xz index record');
    if (unpadded !== r.unpadded || uncompressed !== r.uncompressed)
      reader.fail('an index record disagrees with its block', indexAt);
    encode(unpadded);
    encode(uncompressed);
  }
  while (indexBytes.length % 4 !== 0) {
    if (reader.byte('xz index padding') !== 0) reader.fail('index padding is not zero');
    indexBytes.push(0);
  }
  checkCrc32(reader, Uint8Array.from(indexBytes), 'index', reader.offset);
  const footerAt = reader.offset;
  const footer = reader.bytes(12, 'xz stream footer');
  const footerView = new DataView(footer.buffer);
  if (footerView.getUint32(0, true) !== crc32(footer.subarray(4, 10)) >>> 0)
    reader.fail('the stream footer fails its CRC32', footerAt);
  if ((footerView.getUint32(4, true) + 1) * 4 !== indexBytes.length + 4)
    reader.fail('the footer backward size does not match the index', footerAt + 4);
  if (footer[8] !== flags[0] || footer[9] !== flags[1])
    reader.fail('footer flags differ from the header', footerAt + 8);
  if (footer[10] !== FOOTER_MAGIC[0] || footer[11] !== FOOTER_MAGIC[1])
    reader.fail('no "YZ" footer magic', footerAt + 10);
}
