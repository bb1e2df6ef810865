import { MIN_ALIGNED_TENSOR_BYTES, TENSOR_PIECE_BYTES } from './limits.js';

/** A byte range `[start, end)` of a file. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A stretch of a file and how it is chunked: fixed tensor pieces, or content-defined. */
export interface Segment extends Span {
  readonly kind: 'tensor' | 'content';
}

/**
 * Splits a file of `size` bytes into segments: each tensor range of at least
 * MIN_ALIGNED_TENSOR_BYTES becomes tensor pieces of TENSOR_PIECE_BYTES counted from its start;
 * everything else (headers, small tensors, gaps) is content-defined. Ranges may come unsorted,
 * overlapping (PyTorch views of one storage) or out of the file; the first of overlapping ranges
 * wins and the rest are dropped, so the plan always covers the file exactly once.
 */
export function planSegments(size: number, tensors: readonly Span[]): Segment[] {
  const ranges = tensors
    .filter((r) => r.start >= 0 && r.end <= size && r.end - r.start >= MIN_ALIGNED_TENSOR_BYTES)
    .slice()
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Segment[] = [];
  let position = 0;
  for (const range of ranges) {
    if (range.start < position) continue;
    if (range.start > position) out.push({ start: position, end: range.start, kind: 'content' });
    for (let start = range.start; start < range.end; start += TENSOR_PIECE_BYTES)
      out.push({ start, end: Math.min(range.end, start + TENSOR_PIECE_BYTES), kind: 'tensor' });
    position = range.end;
  }
  if (position < size) out.push({ start: position, end: size, kind: 'content' });
  return out;
}
