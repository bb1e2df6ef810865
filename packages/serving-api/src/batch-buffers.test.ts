import { describe, expect, it } from 'vitest';
import {
  MAX_POOLED_BUFFER_BYTES,
  ownedByBatch,
  recycleBatchBuffer,
  takeBatchBuffer,
} from './batch-buffers.js';

describe('batch buffers', () => {
  it('lends the start of a buffer only the batch holds, and lends a given-back buffer again', () => {
    const first = takeBatchBuffer(3000);
    expect(first.byteLength).toBe(3000);
    expect(first.byteOffset).toBe(0);
    expect(ownedByBatch(first)).toBe(true);
    expect(ownedByBatch(first.subarray(4))).toBe(false);
    recycleBatchBuffer(first.buffer as ArrayBuffer);
    const again = takeBatchBuffer(2000);
    expect(again.buffer).toBe(first.buffer);
    expect(again.byteLength).toBe(2000);
    // lent out again: a second take gets another buffer
    expect(takeBatchBuffer(2000).buffer).not.toBe(first.buffer);
  });

  it('keeps no buffer of an odd size, none too large, and each buffer once', () => {
    const odd = new ArrayBuffer(12_345);
    recycleBatchBuffer(odd);
    expect(takeBatchBuffer(12_345).buffer).not.toBe(odd);
    const large = takeBatchBuffer(MAX_POOLED_BUFFER_BYTES + 1);
    recycleBatchBuffer(large.buffer as ArrayBuffer);
    expect(takeBatchBuffer(MAX_POOLED_BUFFER_BYTES + 1).buffer).not.toBe(large.buffer);
    const once = takeBatchBuffer(100_000);
    recycleBatchBuffer(once.buffer as ArrayBuffer);
    recycleBatchBuffer(once.buffer as ArrayBuffer);
    expect(takeBatchBuffer(100_000).buffer).toBe(once.buffer);
    expect(takeBatchBuffer(100_000).buffer).not.toBe(once.buffer);
  });
});
