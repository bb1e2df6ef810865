import { describe, expect, it } from 'vitest';
import { bfloat16ToNumber, halfToNumber, numberToBfloat16, numberToHalf } from './half.js';

describe('FP16', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [65520, 0x7c00], // rounds up past the largest half
    [65519, 0x7bff],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000], // a tie between 0 and the smallest subnormal goes to even (0)
    [3 * 2 ** -25, 0x0002],
    [1 + 2 ** -11, 0x3c00], // tie between 1 and the next half: even mantissa
    [1 + 3 * 2 ** -11, 0x3c02],
    [0.1, 0x2e66],
    [-0, 0x8000],
    [Number.POSITIVE_INFINITY, 0x7c00],
    [Number.NEGATIVE_INFINITY, 0xfc00],
    [Number.NaN, 0x7e00],
  ])('%s -> %s', (value, bits) => {
    expect(numberToHalf(value)).toBe(bits);
  });

  it('round-trips every half', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = halfToNumber(bits);
      if (Number.isNaN(value)) continue;
      expect(numberToHalf(value)).toBe(bits);
    }
  });
});

describe('BF16', () => {
  it.each([
    [1, 0x3f80],
    [-2, 0xc000],
    [1 + 2 ** -8, 0x3f80], // tie: even
    [1 + 3 * 2 ** -8, 0x3f82],
    [Number.NaN, 0x7fc0],
  ])('%s -> %s', (value, bits) => {
    expect(numberToBfloat16(value)).toBe(bits);
  });

  it('round-trips every bfloat16', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = bfloat16ToNumber(bits);
      if (Number.isNaN(value)) continue;
      expect(numberToBfloat16(value)).toBe(bits);
    }
  });
});
