import { describe, expect, it } from 'vitest';
import { ownedByBatch } from './batch-buffers.js';
import { concatRows, sliceRows, type Tensor } from './tensor.js';

const rows = (...values: number[][]): Tensor => ({
  datatype: 'UINT8',
  shape: [values.length, values[0]!.length],
  bytes: Uint8Array.from(values.flat()),
});

describe('concatRows', () => {
  it('joins rows exactly, in a buffer only the batch owns', () => {
    const joined = concatRows('UINT8', [rows([1, 2]), rows([3, 4], [5, 6])]);
    expect(joined.shape).toEqual([3, 2]);
    const bytes = (joined as { bytes: Uint8Array }).bytes;
    expect(Array.from(bytes)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ownedByBatch(bytes)).toBe(true);
    expect(ownedByBatch(bytes.subarray(2))).toBe(false);
    expect(Array.from((sliceRows(joined, 1, 3) as { bytes: Uint8Array }).bytes)).toEqual([3, 4, 5, 6]);
  });

  it('passes a single request through as it is, which the batch does not own', () => {
    const one = rows([7, 8]);
    expect(concatRows('UINT8', [one])).toBe(one);
    expect(ownedByBatch((one as { bytes: Uint8Array }).bytes)).toBe(false);
  });
});
