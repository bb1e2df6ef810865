/** Every size a .npy/.npz file controls, with why it is bounded. */

/**
 * Header dictionary bytes. NumPy itself refuses headers over 10000 bytes unless told otherwise
 * (numpy/lib/format.py `_MAX_HEADER_SIZE`, added because literal_eval of a huge header is a
 * denial of service); structured dtypes with many fields can need more, so allow 1 MiB (CWE-770).
 */
export const MAX_NPY_HEADER_BYTES = 1 << 20;
/** Nesting of lists/tuples/dicts in a header literal; the parser recurses per level (CWE-674). */
export const MAX_LITERAL_DEPTH = 32;
/** Dimensions in a shape: NumPy's NPY_MAXDIMS is 32 (64 since NumPy 2.0). */
export const MAX_NPY_DIMS = 64;
/** Fields in a structured dtype, counted over all nesting levels (CWE-770). */
export const MAX_STRUCT_FIELDS = 65_536;
/** Members of an .npz checked for the npy magic during detection (the rest by name only). */
export const DETECT_NPZ_MEMBERS = 8;
