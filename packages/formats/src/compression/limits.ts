/** Every size a compressed stream controls, with why it is bounded (decompression bombs, CWE-409). */

/**
 * Bytes one compressed file may inflate to. The whole output is held (the pickle machine reads
 * it at random), so this is the memory a compressed joblib file may cost (CWE-409).
 */
export const MAX_DECOMPRESSED_BYTES = 1024 * 1024 * 1024;
/**
 * Output-to-input ratio past MAX_RATIO_FREE_BYTES. Real models (float arrays, tree nodes)
 * compress 1.1-20x; a bomb reaches 1000x (zlib) to millions (bz2, xz). Apache POI's
 * ZipSecureFile refuses the same 100:1 (CWE-409).
 */
export const MAX_DECOMPRESSION_RATIO = 100;
/** Output below this size is never judged by its ratio: a small all-zero array is fine (CWE-409). */
export const MAX_RATIO_FREE_BYTES = 16 * 1024 * 1024;
/**
 * Compressed bytes read to detect a compressed joblib file: one whole bz2 block (900k before
 * compression, at most ~1% bigger after) or LZ4 block (python-lz4 writes 64 KiB ones, the
 * frame format allows up to 4 MiB) must be read before its first byte comes out.
 */
export const MAX_DETECT_INPUT_BYTES = 4 * 1024 * 1024 + 64 * 1024;

/** The limits one decode runs under; tests lower them to check each path cheaply. */
export interface DecompressLimits {
  readonly maxBytes: number;
  readonly maxRatio: number;
  readonly ratioFreeBytes: number;
}

export const DEFAULT_LIMITS: DecompressLimits = {
  maxBytes: MAX_DECOMPRESSED_BYTES,
  maxRatio: MAX_DECOMPRESSION_RATIO,
  ratioFreeBytes: MAX_RATIO_FREE_BYTES,
};
