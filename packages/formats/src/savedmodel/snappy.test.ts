import { describe, expect, it } from 'vitest';
import { isFerryError } from '../errors.js';
import { snappyDecompress } from './snappy.js';

const run = (bytes: number[], max = 1 << 20): Uint8Array =>
  snappyDecompress(Uint8Array.from(bytes), max, 't', 0);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function code(bytes: number[], max?: number): string {
  try {
    run(bytes, max);
    return 'ok';
  } catch (error) {
    if (!isFerryError(error)) throw error;
    return error.code;
  }
}

describe('snappy', () => {
  it('decodes literals and all three copy forms, overlapping copies included', () => {
    // "abcd" literal then a 1-byte-offset copy of 8 from offset 4 (overlapping): abcdabcdabcd.
    expect(text(run([12, 0x0c, 97, 98, 99, 100, 0x01 | (4 << 2), 4]))).toBe('abcdabcdabcd');
    // Run-length: "a" then copy 9 from offset 1 with a 2-byte offset.
    expect(text(run([10, 0x00, 97, 0x02 | (8 << 2), 1, 0]))).toBe('aaaaaaaaaa');
    // 4-byte offset copy.
    expect(text(run([6, 0x08, 120, 121, 122, 0x03 | (2 << 2), 3, 0, 0, 0]))).toBe('xyzxyz');
    // Long literal: length in one extra byte (tag 60).
    const long = Array.from({ length: 70 }, (_, i) => 65 + (i % 26));
    expect(text(run([70, 60 << 2, 69, ...long]))).toBe(String.fromCharCode(...long));
    expect(run([0]).length).toBe(0);
  });

  it('rejects hostile streams with a FerryError', () => {
    expect(code([4, 0x01 | (0 << 2), 1])).toBe('FERRY_SSTABLE_STRUCTURE'); // copy before any output
    expect(code([8, 0x0c, 97, 98, 99, 100, 0x01 | (4 << 2), 9])).toBe('FERRY_SSTABLE_STRUCTURE'); // offset past output
    expect(code([3, 0x0c, 97, 98, 99, 100])).toBe('FERRY_SSTABLE_STRUCTURE'); // more than declared
    expect(code([9, 0x0c, 97, 98, 99, 100])).toBe('FERRY_SSTABLE_STRUCTURE'); // less than declared
    expect(code([5, 0x10, 97])).toBe('FERRY_SSTABLE_STRUCTURE'); // literal past the input
    expect(code([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).toBe('FERRY_SSTABLE_STRUCTURE'); // bad varint
    expect(code([0xff, 0xff, 0x03], 1000)).toBe('FERRY_LIMIT'); // declared size over the limit
    expect(code([4, 0x02])).toBe('FERRY_SSTABLE_STRUCTURE'); // truncated offset
  });
});
