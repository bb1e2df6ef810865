import { describe, expect, it } from 'vitest';
import { MIN_ALIGNED_TENSOR_BYTES, TENSOR_PIECE_BYTES } from './limits.js';
import { planSegments } from './plan.js';

const covers = (size: number, segments: ReturnType<typeof planSegments>) => {
  let at = 0;
  for (const s of segments) {
    expect(s.start).toBe(at);
    expect(s.end).toBeGreaterThan(s.start);
    at = s.end;
  }
  expect(at).toBe(size);
};

describe('planSegments', () => {
  it('content-chunks a file with no tensors', () => {
    expect(planSegments(1000, [])).toEqual([{ start: 0, end: 1000, kind: 'content' }]);
    expect(planSegments(0, [])).toEqual([]);
  });

  it('cuts a large tensor into fixed pieces counted from its own start', () => {
    const start = 100;
    const end = start + 2 * TENSOR_PIECE_BYTES + 7;
    const segments = planSegments(end + 50, [{ start, end }]);
    covers(end + 50, segments);
    expect(segments.map((s) => [s.kind, s.end - s.start])).toEqual([
      ['content', 100],
      ['tensor', TENSOR_PIECE_BYTES],
      ['tensor', TENSOR_PIECE_BYTES],
      ['tensor', 7],
      ['content', 50],
    ]);
  });

  it('leaves small tensors to content-defined chunking', () => {
    const segments = planSegments(10_000, [{ start: 10, end: 10 + MIN_ALIGNED_TENSOR_BYTES - 1 }]);
    expect(segments).toEqual([{ start: 0, end: 10_000, kind: 'content' }]);
  });

  it('drops overlapping, unsorted and out-of-file ranges so the file is covered once', () => {
    const m = MIN_ALIGNED_TENSOR_BYTES;
    const size = 10 * m;
    const segments = planSegments(size, [
      { start: 5 * m, end: 7 * m },
      { start: 0, end: 2 * m },
      { start: m, end: 3 * m }, // overlaps the first range
      { start: 9 * m, end: 11 * m }, // past the end
    ]);
    covers(size, segments);
    expect(segments.filter((s) => s.kind === 'tensor').map((s) => s.start)).toEqual([0, 5 * m]);
  });
});
