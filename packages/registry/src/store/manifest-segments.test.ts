import { describe, expect, it } from 'vitest';
import { manifestSegments } from './manifest-segments.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

describe('manifestSegments', () => {
  it('reads a file that is one pack as one range of it', () => {
    const manifest = { sha256: A, size: 100, pack: 'p', chunks: [] };
    expect([...manifestSegments(manifest, { start: 10, end: 20 })]).toEqual([
      { pack: 'p', range: { start: 10, end: 20 } },
    ]);
  });

  it('merges chunks back to back in one pack, and reads a chunk blob alone', () => {
    const manifest = {
      sha256: A,
      size: 30,
      chunks: [
        { sha256: A, offset: 0, size: 10, pack: 'p', packOffset: 50 },
        { sha256: B, offset: 10, size: 10, pack: 'p', packOffset: 60 },
        { sha256: C, offset: 20, size: 10 },
      ],
    };
    expect([...manifestSegments(manifest, { start: 5, end: 24 })]).toEqual([
      { pack: 'p', range: { start: 55, end: 69 } },
      { sha256: C, range: { start: 0, end: 4 }, whole: false },
    ]);
  });

  it('splits where chunks of one pack are not back to back (a chunk that repeats)', () => {
    const manifest = {
      sha256: A,
      size: 30,
      chunks: [
        { sha256: A, offset: 0, size: 10, pack: 'p', packOffset: 0 },
        { sha256: B, offset: 10, size: 10, pack: 'p', packOffset: 10 },
        { sha256: A, offset: 20, size: 10, pack: 'p', packOffset: 0 },
      ],
    };
    expect([...manifestSegments(manifest, { start: 0, end: 29 })]).toEqual([
      { pack: 'p', range: { start: 0, end: 19 } },
      { pack: 'p', range: { start: 0, end: 9 } },
    ]);
  });
});
