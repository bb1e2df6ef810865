/**
 * Chunking parameters (issue #20). They are part of every stored chunk's identity: changing one
 * changes the chunks new pushes produce, so old and new versions stop sharing chunks (still
 * correct, only less deduplicated). Change them only with a reason written here.
 */

/**
 * Content-defined chunking (FastCDC, Gear hash) of bytes that are not a large tensor: headers,
 * small tensors, unknown files. Xet's parameters (64 KiB target, min = target/8, max = 2x target),
 * so the comparison with Xet's published GPT-2 figure measures tensor alignment, not chunk size.
 */
export const CDC_MIN_BYTES = 8 * 1024;
export const CDC_AVG_BYTES = 64 * 1024;
export const CDC_MAX_BYTES = 128 * 1024;

/**
 * A tensor at least this large gets chunk boundaries at its own start and end; a smaller one is
 * left to content-defined chunking with its neighbours (one chunk per bias vector would multiply
 * manifest rows and requests for bytes that hardly matter).
 */
export const MIN_ALIGNED_TENSOR_BYTES = 64 * 1024;

/**
 * A large tensor is cut into pieces of this size counted from the tensor's first byte, so the same
 * tensor gives the same chunks in any format and at any file offset. 4 MiB: a 1 GiB file is 256
 * chunks (each a stored blob with its own fsync), while a fine-tune that trains some layers still
 * changes only those layers' pieces.
 */
export const TENSOR_PIECE_BYTES = 4 * 1024 * 1024;

/** The chunker's read buffer: one tensor piece (and at least CDC_MAX_BYTES): bounded memory. */
export const CHUNK_READ_BYTES = TENSOR_PIECE_BYTES;

/** Chunks one file may have (1 TiB of content-defined chunks at the minimum size is far more): CWE-770. */
export const MAX_CHUNKS_PER_FILE = 16 * 1024 * 1024;
