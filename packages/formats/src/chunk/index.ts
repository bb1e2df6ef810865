export { type ChunkBytes, type ChunkedFile, chunkFile, chunkStream, type FileChunk } from './chunk-file.js';
export { cdcCut, GEAR } from './gear.js';
export {
  CDC_AVG_BYTES,
  CDC_MAX_BYTES,
  CDC_MIN_BYTES,
  MIN_ALIGNED_TENSOR_BYTES,
  TENSOR_PIECE_BYTES,
} from './limits.js';
export { planSegments, type Segment, type Span } from './plan.js';
export { fileOrigin, spansOf, tensorSpans } from './tensor-spans.js';
