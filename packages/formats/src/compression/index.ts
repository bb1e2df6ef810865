export { type CompressedInput, bufferInput } from './byte-reader.js';
export { type Compression, type CompressionName, COMPRESSIONS, compressionOf } from './compressions.js';
export { type Decompressed, decompress, decompressHead } from './decompress.js';
export {
  DEFAULT_LIMITS,
  type DecompressLimits,
  MAX_DECOMPRESSED_BYTES,
  MAX_DECOMPRESSION_RATIO,
  MAX_DETECT_INPUT_BYTES,
  MAX_RATIO_FREE_BYTES,
} from './limits.js';
