/** Every size a zip archive controls, with why it is bounded. */

/** More entries than this is refused: a central directory can claim billions (CWE-770). */
export const MAX_ZIP_ENTRIES = 1_000_000;

/**
 * A deflated member may inflate to at most this many times its compressed size (CWE-409). Real
 * model data compresses less than 10:1; deflate's ceiling is about 1032:1, reached only by runs
 * of one byte, the stuff of zip bombs. Apache POI refuses beyond 100:1 (ZipSecureFile
 * MIN_INFLATE_RATIO 0.01); all-zero arrays saved with np.savez_compressed can exceed this and are
 * refused with FERRY_LIMIT (save them uncompressed).
 */
export const MAX_INFLATE_RATIO = 200;

/** The ratio applies beyond this much output: small members (a version record, a header) compress far better. */
export const MAX_INFLATE_RATIO_GRACE_BYTES = 1024 * 1024;

/**
 * Bytes inflated while scanning one file, every member and every nesting level together
 * (zip in zip, npz in zip share it), so a nested or overlapping-entry bomb stops here (CWE-409).
 */
export const MAX_INFLATED_TOTAL = 1024 * 1024 * 1024;

/** Compressed bytes fed to the inflater per read, and its output chunk: bounds what one step holds. */
export const INFLATE_CHUNK_BYTES = 64 * 1024;
