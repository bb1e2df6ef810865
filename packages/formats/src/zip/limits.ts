/** Every size a zip archive controls, with why it is bounded. */

/** More entries than this is refused: a central directory can claim billions (CWE-770). */
export const MAX_ZIP_ENTRIES = 1_000_000;

/**
 * A deflated member may inflate to at most this many times its compressed size (CWE-409).
 * Deflate's own ceiling is about 1032:1 (a 258-byte match costs at least two bits, RFC 1951), so
 * a single honest member never goes over it: a member that declares or produces more is lying
 * about its sizes. A lower ratio would refuse real files: np.savez_compressed of a large all-zero
 * array (zero-initialised weights, optimizer moments) compresses close to the ceiling. Bombs that
 * stay under it per member (overlapping entries, nesting) are stopped by the scan's budget below.
 */
export const MAX_INFLATE_RATIO = 1032;

/** The ratio applies beyond this much output: small members (a version record, a header) compress far better. */
export const MAX_INFLATE_RATIO_GRACE_BYTES = 1024 * 1024;

/**
 * Bytes inflated while scanning one file, every member and every nesting level together
 * (zip in zip, npz in zip share it), so a nested or overlapping-entry bomb stops here (CWE-409).
 * A scan's budget is also at most MAX_INFLATE_RATIO times the file's own size (scanInflateBudget):
 * more than that can only come from bytes inflated twice (overlap) or ratios multiplied (nesting).
 */
export const MAX_INFLATED_TOTAL = 1024 * 1024 * 1024;

/** Compressed bytes fed to the inflater per read, and its output chunk: bounds what one step holds. */
export const INFLATE_CHUNK_BYTES = 64 * 1024;
