import { describe, expect, it } from 'vitest';
import { FP16_MAX, fromFloat16Bits, toFloat16Bits } from './convert.js';

describe('float16 bits', () => {
  it('known values (IEEE 754 binary16)', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(0.1)).toBe(0x2e66);
    expect(toFloat16Bits(FP16_MAX)).toBe(0x7bff);
    expect(toFloat16Bits(65520)).toBe(0x7c00); // rounds to infinity: why values are clamped first
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(toFloat16Bits(2 ** -26)).toBe(0x0000);
    expect(toFloat16Bits(-0)).toBe(0x8000);
    expect(toFloat16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(toFloat16Bits(Number.NaN) & 0x3ff).not.toBe(0);
  });

  it('every float16 value survives float16 -> number -> float16', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = fromFloat16Bits(h);
      if (Number.isNaN(v)) continue;
      expect(toFloat16Bits(v)).toBe(h);
    }
  });

  it('rounds to nearest, ties to even', () => {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties to the even mantissa (1).
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toFloat16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
  });
});
