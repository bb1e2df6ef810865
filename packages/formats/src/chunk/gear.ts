import { createHash } from 'node:crypto';
import { CDC_AVG_BYTES, CDC_MAX_BYTES, CDC_MIN_BYTES } from './limits.js';

/**
 * The Gear table: 256 random 32-bit words, derived from sha256 of a fixed label so every ferry
 * (and any reimplementation) computes the same cut points. Changing it changes every CDC chunk.
 */
export const GEAR: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++)
    table[i] = createHash('sha256').update(`ferry-gear-${i}`).digest().readUInt32BE(0);
  return table;
})();

/** A mask of `bits` ones in the hash's high bits: with a left-shifting Gear hash they mix the last 32 bytes. */
function highMask(bits: number): number {
  return (0xffffffff << (32 - bits)) >>> 0;
}

const AVG_BITS = Math.round(Math.log2(CDC_AVG_BYTES));
/**
 * FastCDC's normalized chunking (level 2): a harder mask before the average size and an easier one
 * after it pull chunk sizes towards the average (Xia et al., USENIX ATC 2016, section 3.3).
 */
const MASK_SMALL = highMask(AVG_BITS + 2);
const MASK_LARGE = highMask(AVG_BITS - 2);

/**
 * Where the next content-defined chunk starting at `start` ends (exclusive), looking at
 * `bytes[start..end)`. `final` says `end` is the end of the region: otherwise a chunk is only
 * cut where the bytes to decide it are all present (the caller keeps CDC_MAX_BYTES buffered).
 */
export function cdcCut(bytes: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length <= CDC_MIN_BYTES) return end;
  const limit = start + Math.min(length, CDC_MAX_BYTES);
  const normal = start + Math.min(length, CDC_AVG_BYTES);
  let h = 0;
  // Bytes before the minimum size never cut (FastCDC's cut-point skipping).
  let i = start + CDC_MIN_BYTES;
  for (; i < normal; i++) {
    h = ((h << 1) + GEAR[bytes[i]!]!) >>> 0;
    if ((h & MASK_SMALL) === 0) return i + 1;
  }
  for (; i < limit; i++) {
    h = ((h << 1) + GEAR[bytes[i]!]!) >>> 0;
    if ((h & MASK_LARGE) === 0) return i + 1;
  }
  return limit;
}
