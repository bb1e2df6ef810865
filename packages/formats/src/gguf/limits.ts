/**
 * Every count, length and depth a GGUF file controls, with why it is bounded. Declared sizes are
 * also checked against the bytes left in the file before anything is allocated.
 */

/** Tensor infos per file; the biggest published models have a few thousand (CWE-770). */
export const MAX_TENSORS = 1_000_000;
/** Metadata key/values per file; real files have tens to hundreds (CWE-770). */
export const MAX_KV = 1_000_000;
/** A key is at most 65535 bytes (ggml docs/gguf.md, "Standardized key-value pairs"). */
export const MAX_KEY_BYTES = 65_535;
/** One string value: chat templates are tens of KB; more is an allocation attack (CWE-789). */
export const MAX_STRING_BYTES = 64 * 1024 * 1024;
/** Elements in one metadata array: vocabularies are ~256k tokens, merges as many (CWE-770). */
export const MAX_ARRAY_LENGTH = 64 * 1024 * 1024;
/** Arrays of arrays nest this deep at most; the parser recurses per level (CWE-674). */
export const MAX_ARRAY_DEPTH = 8;
/** GGML_MAX_DIMS in ggml.h: a ggml tensor has at most 4 dimensions. */
export const MAX_DIMS = 4;
/** Tensor name length: GGML_MAX_NAME is 64 bytes; older writers allowed more, so be generous (CWE-789). */
export const MAX_TENSOR_NAME_BYTES = 65_535;
/** general.alignment: a power of two; ggml uses 32, and a page (64 KiB) is the most anyone needs. */
export const MAX_ALIGNMENT = 1 << 30;
/** Array values kept in memory for the API (the rest are counted and skipped, not stored). */
export const KEEP_ARRAY_VALUES = 256;
/** Bytes read from the file per refill while walking the header (ranged reads, not the whole file). */
export const READ_CHUNK_BYTES = 1 << 20;
