import { ferryError } from '../errors.js';
import type { ByteReader } from './byte-reader.js';
import type { OutputBuffer } from './output-buffer.js';

/*
 * bzip2 decoder (bzip2 1.0.8 decompress.c, and the format notes of Joe Tsai's "bzip2 format
 * specification"): stream header "BZh1".."BZh9", blocks of Huffman-coded MTF/RLE2 symbols over
 * a Burrows-Wheeler transform of RLE1 runs, each with a CRC, then an end marker with the CRC
 * of all blocks. Python's bz2.BZ2File (joblib's bz2 compressor) writes exactly this.
 */

const BLOCK_MAGIC_HI = 0x314159;
const BLOCK_MAGIC_LO = 0x265359;
const END_MAGIC_HI = 0x177245;
const END_MAGIC_LO = 0x385090;
/** bzip2 1.0.8 BZ_MAX_SELECTORS: more are read and ignored (the CVE-2019-12900 fix). */
const MAX_SELECTORS = 18002;
const MAX_GROUPS = 6;
const MAX_ALPHA = 258;
const MAX_CODE_LENGTH = 20;
const GROUP_SIZE = 50;
/** Huffman codes up to this long decode by one table lookup; longer ones bit by bit. */
const FAST_BITS = 10;

/** bzip2's CRC: CRC-32 with polynomial 0x04c11db7, most significant bit first (crctable.c). */
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c;
  }
  return t;
})();

/** A canonical Huffman table for one group, as bzip2's hbCreateDecodeTables orders codes. */
interface HuffmanGroup {
  /** (symbol << 5) | length for codes up to FAST_BITS long, 0 where the prefix is longer. */
  readonly fast: Uint16Array;
  readonly firstCode: Int32Array;
  readonly firstIndex: Int32Array;
  readonly count: Int32Array;
  readonly sorted: Uint16Array;
  readonly maxLength: number;
}

function buildGroup(lengths: Uint8Array, alphaSize: number, reader: ByteReader): HuffmanGroup {
  const count = new Int32Array(MAX_CODE_LENGTH + 1);
  for (let s = 0; s < alphaSize; s++) count[lengths[s]!]!++;
  const firstCode = new Int32Array(MAX_CODE_LENGTH + 2);
  const firstIndex = new Int32Array(MAX_CODE_LENGTH + 2);
  let code = 0;
  let index = 0;
  let maxLength = 0;
  for (let len = 1; len <= MAX_CODE_LENGTH; len++) {
    firstCode[len] = code;
    firstIndex[len] = index;
    code += count[len]!;
    index += count[len]!;
    if (code > 1 << len) reader.fail('Huffman code lengths oversubscribe the code space');
    if (count[len]! > 0) maxLength = len;
    code <<= 1;
  }
  const sorted = new Uint16Array(alphaSize);
  const next = firstIndex.slice();
  for (let s = 0; s < alphaSize; s++) sorted[next[lengths[s]!]!++] = s;
  const fast = new Uint16Array(1 << FAST_BITS);
  for (let len = 1; len <= Math.min(FAST_BITS, MAX_CODE_LENGTH); len++) {
    for (let k = 0; k < count[len]!; k++) {
      const symbol = sorted[firstIndex[len]! + k]!;
      const c = firstCode[len]! + k;
      const shift = FAST_BITS - len;
      fast.fill((symbol << 5) | len, c << shift, (c + 1) << shift);
    }
  }
  return { fast, firstCode, firstIndex, count, sorted, maxLength };
}

/** Decodes one bzip2 stream (header to end marker) into `out`. */
export function decodeBzip2Stream(reader: ByteReader, out: OutputBuffer): void {
  // Bit buffer and count in a typed array, not in closure variables: V8 boxes a captured
  // number past 2^30 on every store. The symbol loop copies them into plain locals.
  const bs = new Int32Array(2);
  const bits = (n: number): number => {
    let bitBuf = bs[0]!;
    let bitCount = bs[1]!;
    while (bitCount < n) {
      bitBuf = (bitBuf << 8) | reader.byte('bzip2 data');
      bitCount += 8;
    }
    bitCount -= n;
    bs[0] = bitBuf;
    bs[1] = bitCount;
    return (bitBuf >>> bitCount) & ((1 << n) - 1);
  };
  const streamStart = reader.offset;
  if (bits(8) !== 0x42 || bits(8) !== 0x5a || bits(8) !== 0x68)
    reader.fail('no "BZh" stream header', streamStart);
  const level = bits(8) - 0x30;
  if (level < 1 || level > 9) reader.fail(`block size digit ${level} is not 1-9`, streamStart + 3);
  const blockMax = level * 100_000;
  const tt = new Uint32Array(blockMax);
  let combined = 0;
  for (;;) {
    const blockAt = reader.offset;
    const hi = bits(24);
    const lo = bits(24);
    if (hi === END_MAGIC_HI && lo === END_MAGIC_LO) {
      const stored = bits(16) * 0x10000 + bits(16);
      if (stored !== combined >>> 0)
        throw ferryError('FERRY_COMPRESSED_CHECKSUM', {
          path: reader.path,
          format: 'bz2',
          what: 'stream CRC',
          offset: reader.offset - 4,
          stored: hex(stored),
          computed: hex(combined >>> 0),
        });
      // The stream ends at the next byte boundary; the rest of this byte is padding.
      return;
    }
    if (hi !== BLOCK_MAGIC_HI || lo !== BLOCK_MAGIC_LO)
      reader.fail('no block or end-of-stream marker', blockAt);
    const storedCrc = bits(16) * 0x10000 + bits(16);
    if (bits(1)) {
      throw ferryError('FERRY_UNSUPPORTED', {
        path: reader.path,
        what: `bz2 block at byte ${blockAt}`,
        reason: 'randomised blocks (written only by bzip2 0.9.0 and older)',
      });
    }
    const origPtr = bits(24);
    // Symbol map: 16 ranges of 16 byte values, each present or not.
    const seqToUnseq = new Uint8Array(256);
    let inUse = 0;
    const ranges = bits(16);
    for (let i = 0; i < 16; i++) {
      if (ranges & (0x8000 >>> i)) {
        const used = bits(16);
        for (let j = 0; j < 16; j++) if (used & (0x8000 >>> j)) seqToUnseq[inUse++] = i * 16 + j;
      }
    }
    if (inUse === 0) reader.fail('a block uses no byte values', blockAt);
    const alphaSize = inUse + 2;
    const nGroups = bits(3);
    if (nGroups < 2 || nGroups > MAX_GROUPS) reader.fail(`${nGroups} Huffman groups (must be 2-6)`);
    const nSelectors = bits(15);
    if (nSelectors < 1) reader.fail('no Huffman group selectors');
    const kept = Math.min(nSelectors, MAX_SELECTORS);
    const selectors = new Uint8Array(kept);
    const groupMtf = [0, 1, 2, 3, 4, 5];
    for (let i = 0; i < nSelectors; i++) {
      let j = 0;
      while (bits(1)) if (++j >= nGroups) reader.fail('a selector names a group that does not exist');
      // Selectors are MTF-coded: j is a position in the recently-used list.
      const g = groupMtf[j]!;
      for (let k = j; k > 0; k--) groupMtf[k] = groupMtf[k - 1]!;
      groupMtf[0] = g;
      if (i < kept) selectors[i] = g;
    }
    const groups: HuffmanGroup[] = [];
    const lengths = new Uint8Array(MAX_ALPHA);
    for (let g = 0; g < nGroups; g++) {
      let len = bits(5);
      for (let s = 0; s < alphaSize; s++) {
        for (;;) {
          if (len < 1 || len > MAX_CODE_LENGTH) reader.fail(`Huffman code length ${len} is not 1-20`);
          if (!bits(1)) break;
          len += bits(1) ? -1 : 1;
        }
        lengths[s] = len;
      }
      groups.push(buildGroup(lengths, alphaSize, reader));
    }

    // MTF/RLE2 symbols into tt (low byte), counting each byte value for the inverse BWT.
    const counts = new Int32Array(256);
    const mtf = new Uint8Array(256);
    for (let i = 0; i < 256; i++) mtf[i] = i;
    const eob = inUse + 1;
    let nblock = 0;
    let groupIndex = -1;
    let left = 0;
    let group = groups[0]!;
    let run = 0;
    let runWeight = 1;
    let bitBuf = bs[0]!;
    let bitCount = bs[1]!;
    for (;;) {
      if (left === 0) {
        if (++groupIndex >= kept) reader.fail('more symbols than the selectors cover');
        group = groups[selectors[groupIndex]!]!;
        left = GROUP_SIZE;
      }
      left--;
      // Huffman: peek FAST_BITS; longer codes bit by bit from the canonical tables.
      while (bitCount < MAX_CODE_LENGTH) {
        bitBuf = (bitBuf << 8) | reader.byte('bzip2 block data');
        bitCount += 8;
      }
      const entry = group.fast[(bitBuf >>> (bitCount - FAST_BITS)) & ((1 << FAST_BITS) - 1)]!;
      let symbol: number;
      if (entry !== 0) {
        bitCount -= entry & 31;
        symbol = entry >>> 5;
      } else {
        let len = FAST_BITS + 1;
        for (; ; len++) {
          if (len > group.maxLength) reader.fail('a bit pattern that is no Huffman code');
          const c = (bitBuf >>> (bitCount - len)) & ((1 << len) - 1);
          const k = c - group.firstCode[len]!;
          if (k >= 0 && k < group.count[len]!) {
            symbol = group.sorted[group.firstIndex[len]! + k]!;
            break;
          }
        }
        bitCount -= len;
      }
      if (symbol <= 1) {
        // RUNA/RUNB: a bijective base-2 run length of the front MTF byte.
        run += runWeight << symbol;
        runWeight <<= 1;
        if (run > blockMax) reader.fail('a run longer than the block');
        continue;
      }
      if (run > 0) {
        if (nblock + run > blockMax) reader.fail(`more than ${blockMax} bytes in a block`);
        const b = seqToUnseq[mtf[0]!]!;
        counts[b]! += run;
        tt.fill(b, nblock, nblock + run);
        nblock += run;
        run = 0;
        runWeight = 1;
      }
      if (symbol === eob) break;
      if (nblock >= blockMax) reader.fail(`more than ${blockMax} bytes in a block`);
      const at = symbol - 1;
      const u = mtf[at]!;
      // Short moves by hand (the call costs more), long ones by copyWithin.
      if (at < 16) for (let k = at; k > 0; k--) mtf[k] = mtf[k - 1]!;
      else mtf.copyWithin(1, 0, at);
      mtf[0] = u;
      const b = seqToUnseq[u]!;
      counts[b]!++;
      tt[nblock++] = b;
    }
    bs[0] = bitBuf;
    bs[1] = bitCount;
    if (origPtr >= nblock) reader.fail(`BWT origin ${origPtr} is outside the block of ${nblock} bytes`);

    // Inverse BWT (bzip2's fast mode): link each position to its successor in the high bits.
    const cftab = new Int32Array(256);
    for (let i = 0, sum = 0; i < 256; i++) {
      cftab[i] = sum;
      sum += counts[i]!;
    }
    for (let i = 0; i < nblock; i++) {
      const b = tt[i]! & 0xff;
      tt[cftab[b]!]! |= i << 8;
      cftab[b]!++;
    }
    // Undo RLE1 while walking: after 4 equal bytes, the next is a repeat count (0-255).
    let crc = -1;
    let tPos = tt[origPtr]! >>> 8;
    let last = -1;
    let same = 0;
    out.ensure(nblock);
    let buf = out.buf;
    let pos = out.pos;
    for (let i = 0; i < nblock; i++) {
      tPos = tt[tPos]!;
      const b = tPos & 0xff;
      tPos >>>= 8;
      if (same === 4) {
        if (b > 0) {
          out.pos = pos;
          out.ensure(b + nblock - i);
          buf = out.buf;
          buf.fill(last, pos, pos + b);
          for (let k = 0; k < b; k++) crc = (crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ last) & 0xff]!;
          pos += b;
        }
        same = 0;
        last = -1;
        continue;
      }
      if (b === last) same++;
      else {
        same = 1;
        last = b;
      }
      buf[pos++] = b;
      crc = (crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]!;
    }
    out.pos = pos;
    const computed = ~crc >>> 0;
    if (computed !== storedCrc) {
      throw ferryError('FERRY_COMPRESSED_CHECKSUM', {
        path: reader.path,
        format: 'bz2',
        what: 'block CRC',
        offset: blockAt + 6,
        stored: hex(storedCrc),
        computed: hex(computed),
      });
    }
    combined = ((combined << 1) | (combined >>> 31)) ^ computed;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
