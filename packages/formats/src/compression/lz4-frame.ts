import { ferryError } from '../errors.js';
import type { ByteReader } from './byte-reader.js';
import type { OutputBuffer } from './output-buffer.js';
import { XxHash32, xxhash32 } from './xxhash32.js';

/*
 * LZ4 frames (lz4_Frame_format.md 1.6.x, lz4_Block_format.md), as python-lz4's LZ4FrameFile
 * and so joblib's 'lz4' compressor write them: magic, frame descriptor (flags, block maximum,
 * optional content size, header checksum), blocks (size, data, optional block checksum),
 * end mark, optional content checksum. Skippable frames are stepped over as the spec says.
 */

export const LZ4_MAGIC = 0x184d2204;
/** Block maximum sizes by the BD byte's bits 4-6 (values 4-7). */
const BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];
/** Linked blocks may reference this much output before the block (the LZ4 window). */
const WINDOW = 64 * 1024;

function u32(reader: ByteReader, what: string): number {
  const b = reader.bytes(4, what);
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

function checksumError(
  reader: ByteReader,
  what: string,
  offset: number,
  stored: number,
  computed: number,
): never {
  throw ferryError('FERRY_COMPRESSED_CHECKSUM', {
    path: reader.path,
    format: 'lz4',
    what,
    offset,
    stored: `0x${stored.toString(16).padStart(8, '0')}`,
    computed: `0x${computed.toString(16).padStart(8, '0')}`,
  });
}

/** Decodes one LZ4 frame (or skips a skippable frame) into `out`. */
export function decodeLz4Frame(reader: ByteReader, out: OutputBuffer): void {
  const frameAt = reader.offset;
  const magic = u32(reader, 'lz4 magic');
  if (magic >= 0x184d2a50 && magic <= 0x184d2a5f) {
    reader.skip(u32(reader, 'lz4 skippable frame size'), 'lz4 skippable frame');
    return;
  }
  if (magic !== LZ4_MAGIC) reader.fail('no lz4 frame magic', frameAt);
  const flg = reader.byte('lz4 frame descriptor');
  const bd = reader.byte('lz4 frame descriptor');
  if (flg >>> 6 !== 1) reader.fail(`frame version ${flg >>> 6} is not 1`, frameAt + 4);
  if (flg & 0x02 || bd & 0x8f) reader.fail('reserved frame descriptor bits are set', frameAt + 4);
  const independent = (flg & 0x20) !== 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const hasSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const blockMax = BLOCK_MAX[(bd >>> 4) & 7]!;
  if (blockMax === 0) reader.fail(`block maximum code ${(bd >>> 4) & 7} is not 4-7`, frameAt + 5);
  const descriptor = [flg, bd];
  let contentSize: number | undefined;
  if (hasSize) {
    const b = reader.bytes(8, 'lz4 content size');
    descriptor.push(...b);
    const size = new DataView(b.buffer).getBigUint64(0, true);
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) reader.fail(`content size ${size} is over 2^53`, frameAt + 6);
    contentSize = Number(size);
  }
  if (flg & 0x01) {
    throw ferryError('FERRY_UNSUPPORTED', {
      path: reader.path,
      what: `lz4 frame at byte ${frameAt}`,
      reason: 'it needs a preset dictionary (dictionary ID flag), which joblib never writes',
    });
  }
  const hcAt = reader.offset;
  const hc = reader.byte('lz4 header checksum');
  const expectedHc = (xxhash32(Uint8Array.from(descriptor)) >>> 8) & 0xff;
  if (hc !== expectedHc) checksumError(reader, 'header checksum', hcAt, hc, expectedHc);

  const frameStart = out.pos;
  const content = contentChecksum ? new XxHash32() : undefined;
  for (;;) {
    const blockAt = reader.offset;
    const word = u32(reader, 'lz4 block size');
    if (word === 0) break; // end mark
    const size = word & 0x7fffffff;
    if (size > blockMax)
      reader.fail(`a block of ${size} bytes is over the frame's ${blockMax}-byte maximum`, blockAt);
    const data = reader.bytes(size, 'lz4 block');
    if (blockChecksum) {
      const at = reader.offset;
      const stored = u32(reader, 'lz4 block checksum');
      const computed = xxhash32(data);
      if (stored !== computed) checksumError(reader, 'block checksum', at, stored, computed);
    }
    const blockStart = out.pos;
    if (word & 0x80000000) out.write(data);
    else {
      // Independent blocks see only themselves; linked ones the frame's last 64 KiB too.
      const floor = independent ? blockStart : Math.max(frameStart, blockStart - WINDOW);
      decodeBlock(data, out, floor, blockMax, reader, blockAt + 4);
    }
    content?.update(out.buf.subarray(blockStart, out.pos));
  }
  if (contentSize !== undefined && out.pos - frameStart !== contentSize)
    reader.fail(`the frame holds ${out.pos - frameStart} bytes, its header says ${contentSize}`);
  if (content) {
    const at = reader.offset;
    const stored = u32(reader, 'lz4 content checksum');
    const computed = content.digest();
    if (stored !== computed) checksumError(reader, 'content checksum', at, stored, computed);
  }
}

/** One LZ4 block: sequences of literals and (offset, length) matches into `out`. */
function decodeBlock(
  src: Uint8Array,
  out: OutputBuffer,
  floor: number,
  blockMax: number,
  reader: ByteReader,
  at: number,
): void {
  const limit = out.pos + blockMax;
  out.ensure(Math.min(blockMax, src.length * 255 + 16));
  let buf = out.buf;
  let pos = out.pos;
  let i = 0;
  // Errors name the block's offset: a closure over pos and i would keep them on the heap.
  const fail = (reason: string): never => reader.fail(reason, at);
  while (i < src.length) {
    const token = src[i++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (i >= src.length) fail('a literal length runs past the block');
        b = src[i++]!;
        literals += b;
      } while (b === 255);
    }
    if (i + literals > src.length) fail('literals run past the block');
    if (pos + literals > limit) fail('a block decodes to more than its maximum');
    if (pos + literals > buf.length) {
      out.pos = pos;
      out.ensure(literals);
      buf = out.buf;
    }
    // Short runs by hand: a subarray per sequence costs more than the copy.
    if (literals < 32) for (let k = 0; k < literals; k++) buf[pos + k] = src[i + k]!;
    else buf.set(src.subarray(i, i + literals), pos);
    pos += literals;
    i += literals;
    if (i === src.length) break; // the last sequence has literals only
    if (i + 2 > src.length) fail('a match offset runs past the block');
    const offset = src[i]! | (src[i + 1]! << 8);
    i += 2;
    if (offset === 0 || pos - offset < floor) fail(`match offset ${offset} reaches before the window`);
    let length = (token & 15) + 4;
    if (length === 19) {
      let b: number;
      do {
        if (i >= src.length) fail('a match length runs past the block');
        b = src[i++]!;
        length += b;
      } while (b === 255);
    }
    if (pos + length > limit) fail('a block decodes to more than its maximum');
    if (pos + length > buf.length) {
      out.pos = pos;
      out.ensure(length);
      buf = out.buf;
    }
    if (offset >= length && length >= 32) buf.copyWithin(pos, pos - offset, pos - offset + length);
    else for (let k = 0; k < length; k++) buf[pos + k] = buf[pos + k - offset]!;
    pos += length;
  }
  out.pos = pos;
}
