import type { ByteReader } from './byte-reader.js';
import type { OutputBuffer } from './output-buffer.js';

/*
 * The LZMA decoder (Igor Pavlov's LZMA SDK LzmaDec.c / liblzma lzma_decoder.c): a binary range
 * decoder with adaptive probabilities over literals, matches and repeated matches. The output
 * buffer is the dictionary: everything decoded is kept anyway, so a match copies from it and
 * only its distance is checked (against the dictionary size and what exists since the last
 * dictionary reset), as liblzma's dict_is_distance_valid does.
 */

const PROB_INIT = 1024;
const MATCH_MIN = 2;
/** Longest match: 2 + 8 + 8 + 256 - 1. */
export const MATCH_MAX = 273;
const END_MARKER = 0xffffffff;

// Offsets of each probability array in one Uint16Array (LzmaDec.c's layout idea).
const IS_MATCH = 0;
const IS_REP = IS_MATCH + 12 * 16;
const IS_REP_G0 = IS_REP + 12;
const IS_REP_G1 = IS_REP_G0 + 12;
const IS_REP_G2 = IS_REP_G1 + 12;
const IS_REP0_LONG = IS_REP_G2 + 12;
const POS_SLOT = IS_REP0_LONG + 12 * 16;
const SPEC_POS = POS_SLOT + 4 * 64;
const ALIGN = SPEC_POS + 114;
const LEN = ALIGN + 16;
/** choice, choice2, low[16][8], mid[16][8], high[256]. */
const LEN_SIZE = 2 + 16 * 8 + 16 * 8 + 256;
const REP_LEN = LEN + LEN_SIZE;
const LITERAL = REP_LEN + LEN_SIZE;

export interface LzmaProperties {
  readonly lc: number;
  readonly lp: number;
  readonly pb: number;
}

/** The lc/lp/pb byte (lc + 9 * (lp + 5 * pb)); undefined when over 224. */
export function parseProperties(byte: number): LzmaProperties | undefined {
  if (byte > 224) return undefined;
  return { lc: byte % 9, lp: Math.floor(byte / 9) % 5, pb: Math.floor(byte / 45) };
}

export class LzmaDecoder {
  private probs = new Uint16Array(LITERAL + 0x300);
  private lc = 0;
  private lp = 0;
  private pb = 0;
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  /**
   * Range and code, in a typed array: closures and fields holding numbers past 2^30 box them
   * on every store (V8 keeps only small integers unboxed), a Uint32Array element never does.
   */
  private readonly rc = new Uint32Array(2);
  /** Output position of the last dictionary reset: matches may not reach before it. */
  dictStart = 0;

  constructor(
    private readonly reader: ByteReader,
    private readonly out: OutputBuffer,
    private readonly dictSize: number,
  ) {}

  setProperties(p: LzmaProperties): void {
    this.lc = p.lc;
    this.lp = p.lp;
    this.pb = p.pb;
    const size = LITERAL + (0x300 << (p.lc + p.lp));
    if (this.probs.length !== size) this.probs = new Uint16Array(size);
  }

  resetState(): void {
    this.probs.fill(PROB_INIT);
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  resetDictionary(): void {
    this.dictStart = this.out.pos;
  }

  /** Starts the range decoder: a zero byte, then the 32-bit code (LZMA SDK RangeDec_Init). */
  initRange(): void {
    const at = this.reader.offset;
    if (this.reader.byte('range coder start') !== 0)
      this.reader.fail('the range coder does not start with 0', at);
    let code = 0;
    for (let i = 0; i < 4; i++) code = ((code << 8) | this.reader.byte('range coder start')) >>> 0;
    this.rc[0] = 0xffffffff;
    this.rc[1] = code;
    if (code === 0xffffffff) this.reader.fail('the range coder starts past its range', at);
  }

  /** Whether the range decoder ended cleanly (liblzma rc_is_finished: code is 0). */
  rangeFinished(): boolean {
    return this.rc[1] === 0;
  }

  /**
   * Decodes until `limit` output bytes exist (an LZMA2 chunk, a known size) or the end marker
   * (when `allowEnd`). Returns true when it stopped at the end marker.
   */
  decode(limit: number, allowEnd: boolean): boolean {
    const out = this.out;
    const reader = this.reader;
    const probs = this.probs;
    const dictSize = this.dictSize;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    const lc = this.lc;
    const rc = this.rc;
    let state = this.state;
    let rep0 = this.rep0;
    let rep1 = this.rep1;
    let rep2 = this.rep2;
    let rep3 = this.rep3;
    let pos = out.pos;
    let buf = out.buf;
    // Positions (for pb/lp contexts) count from the dictionary reset, as liblzma's dict.pos.
    const ds = this.dictStart;

    // Inlined in the hot paths below; a closure for the rarer ones.
    const bit = (i: number): number => {
      const p = probs[i]!;
      const bound = (rc[0]! >>> 11) * p;
      let b: number;
      if (rc[1]! < bound) {
        rc[0] = bound;
        probs[i] = p + ((2048 - p) >>> 5);
        b = 0;
      } else {
        rc[0] = rc[0]! - bound;
        rc[1] = rc[1]! - bound;
        probs[i] = p - (p >>> 5);
        b = 1;
      }
      if (rc[0]! < 0x1000000) {
        rc[0] = rc[0]! << 8;
        rc[1] = (rc[1]! << 8) | reader.byte('LZMA data');
      }
      return b;
    };
    const tree = (base: number, numBits: number): number => {
      let m = 1;
      for (let i = 0; i < numBits; i++) m = (m << 1) | bit(base + m);
      return m - (1 << numBits);
    };
    const reverse = (base: number, numBits: number): number => {
      let m = 1;
      let sym = 0;
      for (let i = 0; i < numBits; i++) {
        const b = bit(base + m);
        m = (m << 1) | b;
        sym |= b << i;
      }
      return sym;
    };
    const length = (base: number, posState: number): number => {
      if (!bit(base)) return tree(base + 2 + posState * 8, 3);
      if (!bit(base + 1)) return 8 + tree(base + 2 + 128 + posState * 8, 3);
      return 16 + tree(base + 2 + 256, 8);
    };

    let ended = false;
    try {
      while (pos < limit) {
        if (pos + MATCH_MAX > buf.length) {
          out.pos = pos;
          out.ensure(Math.min(MATCH_MAX, limit - pos));
          buf = out.buf;
        }
        const posState = (pos - ds) & pbMask;
        // The is-match bit and a literal's bits are inlined with range and code in registers
        // (block-scoped, captured by no closure): literals are most of the work.
        let range = rc[0]!;
        let code = rc[1]!;
        let literal: boolean;
        {
          const i = IS_MATCH + (state << 4) + posState;
          const p = probs[i]!;
          const bound = (range >>> 11) * p;
          if (code < bound) {
            range = bound;
            probs[i] = p + ((2048 - p) >>> 5);
            literal = true;
          } else {
            range -= bound;
            code -= bound;
            probs[i] = p - (p >>> 5);
            literal = false;
          }
          if (range < 0x1000000) {
            range = (range << 8) >>> 0;
            code = ((code << 8) | reader.byte('LZMA data')) >>> 0;
          }
        }
        if (literal) {
          // Literal: 8 bits coded under the previous byte's context (and the match byte's
          // bits after a match, until they differ).
          const prev = pos > ds ? buf[pos - 1]! : 0;
          const base = LITERAL + 0x300 * ((((pos - ds) & lpMask) << lc) + (prev >>> (8 - lc)));
          let sym = 1;
          if (state >= 7) {
            if (rep0 >= pos - ds) reader.fail(`match distance ${rep0 + 1} reaches before the data`);
            let matchByte = buf[pos - rep0 - 1]!;
            while (sym < 0x100) {
              const matchBit = (matchByte >>> 7) & 1;
              matchByte <<= 1;
              const i = base + ((1 + matchBit) << 8) + sym;
              const p = probs[i]!;
              const bound = (range >>> 11) * p;
              let b: number;
              if (code < bound) {
                range = bound;
                probs[i] = p + ((2048 - p) >>> 5);
                b = 0;
              } else {
                range -= bound;
                code -= bound;
                probs[i] = p - (p >>> 5);
                b = 1;
              }
              if (range < 0x1000000) {
                range = (range << 8) >>> 0;
                code = ((code << 8) | reader.byte('LZMA data')) >>> 0;
              }
              sym = (sym << 1) | b;
              if (matchBit !== b) break;
            }
          }
          while (sym < 0x100) {
            const i = base + sym;
            const p = probs[i]!;
            const bound = (range >>> 11) * p;
            if (code < bound) {
              range = bound;
              probs[i] = p + ((2048 - p) >>> 5);
              sym <<= 1;
            } else {
              range -= bound;
              code -= bound;
              probs[i] = p - (p >>> 5);
              sym = (sym << 1) | 1;
            }
            if (range < 0x1000000) {
              range = (range << 8) >>> 0;
              code = ((code << 8) | reader.byte('LZMA data')) >>> 0;
            }
          }
          rc[0] = range;
          rc[1] = code;
          buf[pos++] = sym & 0xff;
          state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
          continue;
        }
        rc[0] = range;
        rc[1] = code;
        let len: number;
        if (bit(IS_REP + state)) {
          if (pos === ds) reader.fail('a repeated match before any data');
          if (!bit(IS_REP_G0 + state)) {
            if (!bit(IS_REP0_LONG + (state << 4) + posState)) {
              // Short rep: one byte at distance rep0.
              state = state < 7 ? 9 : 11;
              if (rep0 >= pos - ds) reader.fail(`match distance ${rep0 + 1} reaches before the data`);
              buf[pos] = buf[pos - rep0 - 1]!;
              pos++;
              continue;
            }
          } else {
            let dist: number;
            if (!bit(IS_REP_G1 + state)) dist = rep1;
            else {
              if (!bit(IS_REP_G2 + state)) dist = rep2;
              else {
                dist = rep3;
                rep3 = rep2;
              }
              rep2 = rep1;
            }
            rep1 = rep0;
            rep0 = dist;
          }
          len = length(REP_LEN, posState);
          state = state < 7 ? 8 : 11;
        } else {
          rep3 = rep2;
          rep2 = rep1;
          rep1 = rep0;
          len = length(LEN, posState);
          state = state < 7 ? 7 : 10;
          // Distance: a 6-bit slot, then reverse-coded middle bits or direct bits + 4 align bits.
          const slot = tree(POS_SLOT + (len < 4 ? len : 3) * 64, 6);
          if (slot < 4) rep0 = slot;
          else {
            const direct = (slot >>> 1) - 1;
            let dist = ((2 | (slot & 1)) << direct) >>> 0;
            if (slot < 14) dist += reverse(SPEC_POS + dist - slot - 1, direct);
            else {
              let extra = 0;
              let range = rc[0]!;
              let code = rc[1]!;
              for (let i = 0; i < direct - 4; i++) {
                range >>>= 1;
                let b = 0;
                if (code >= range) {
                  code -= range;
                  b = 1;
                }
                extra = ((extra << 1) | b) >>> 0;
                if (range < 0x1000000) {
                  range = (range << 8) >>> 0;
                  code = ((code << 8) | reader.byte('LZMA data')) >>> 0;
                }
              }
              rc[0] = range;
              rc[1] = code;
              dist = (dist + extra * 16 + reverse(ALIGN, 4)) >>> 0;
            }
            rep0 = dist;
            if (rep0 === END_MARKER) {
              if (!allowEnd) reader.fail('an end marker where none is allowed');
              ended = true;
              break;
            }
          }
        }
        len += MATCH_MIN;
        const dist = rep0 + 1;
        if (rep0 >= pos - ds || rep0 >= dictSize) {
          reader.fail(`match distance ${dist} reaches before the data or past the dictionary`);
        }
        if (pos + len > limit) reader.fail('a match runs past the end of the chunk or the declared size');
        // Overlapping copies (dist < len) repeat the pattern, byte by byte.
        if (dist >= len && len >= 32) buf.copyWithin(pos, pos - dist, pos - dist + len);
        else for (let k = 0; k < len; k++) buf[pos + k] = buf[pos + k - dist]!;
        pos += len;
      }
    } finally {
      // Inline, not a closure: captured locals would live on the heap for the whole loop.
      this.state = state;
      this.rep0 = rep0;
      this.rep1 = rep1;
      this.rep2 = rep2;
      this.rep3 = rep3;
      out.pos = pos;
    }
    return ended;
  }
}
