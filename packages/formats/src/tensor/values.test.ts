import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors.js';
import { decodeValues, f8e4m3fnToNumber, f8e5m2ToNumber, f16ToNumber } from './values.js';

const bytesOf = (array: ArrayBufferView) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

describe('decodeValues', () => {
  it('float16: normals, subnormals, limits, signed zero, inf and NaN', () => {
    expect(f16ToNumber(0x3c00)).toBe(1);
    expect(f16ToNumber(0xc000)).toBe(-2);
    expect(f16ToNumber(0x7bff)).toBe(65504);
    expect(f16ToNumber(0x0001)).toBe(2 ** -24);
    expect(f16ToNumber(0x0400)).toBe(2 ** -14);
    expect(Object.is(f16ToNumber(0x8000), -0)).toBe(true);
    expect(f16ToNumber(0xfc00)).toBe(-Infinity);
    expect(f16ToNumber(0x7e00)).toBeNaN();
  });

  it('float8 e4m3fn: 448 is the largest finite value, only S.1111.111 is NaN, no infinities', () => {
    expect(f8e4m3fnToNumber(0x7e)).toBe(448);
    expect(f8e4m3fnToNumber(0xfe)).toBe(-448);
    expect(f8e4m3fnToNumber(0x7f)).toBeNaN();
    expect(f8e4m3fnToNumber(0x78)).toBe(256);
    expect(f8e4m3fnToNumber(0x38)).toBe(1);
    expect(f8e4m3fnToNumber(0x01)).toBe(2 ** -9);
    const finite = Array.from({ length: 256 }, (_, b) => f8e4m3fnToNumber(b)).filter((v) => !Number.isNaN(v));
    expect(finite).toHaveLength(254);
    expect(finite.every(Number.isFinite)).toBe(true);
  });

  it('float8 e5m2: IEEE-like with infinities', () => {
    expect(f8e5m2ToNumber(0x3c)).toBe(1);
    expect(f8e5m2ToNumber(0x7b)).toBe(57344);
    expect(f8e5m2ToNumber(0x7c)).toBe(Infinity);
    expect(f8e5m2ToNumber(0xfc)).toBe(-Infinity);
    expect(f8e5m2ToNumber(0x7d)).toBeNaN();
    expect(f8e5m2ToNumber(0x01)).toBe(2 ** -16);
  });

  it('integers, bool, bfloat16 and complex64 (interleaved re, im)', () => {
    expect([...decodeValues('I64', bytesOf(new BigInt64Array([-5n, 2n ** 40n])))]).toEqual([-5, 2 ** 40]);
    expect([...decodeValues('U16', bytesOf(new Uint16Array([65535, 7])))]).toEqual([65535, 7]);
    expect([...decodeValues('I8', new Uint8Array([0xff, 0x7f]))]).toEqual([-1, 127]);
    expect([...decodeValues('BOOL', new Uint8Array([0, 1, 2]))]).toEqual([0, 1, 1]);
    expect([...decodeValues('BF16', bytesOf(new Uint16Array([0x3f80, 0xc049])))]).toEqual([1, -3.140625]);
    expect([...decodeValues('C64', bytesOf(new Float32Array([1, -2, 0.5, 3])))]).toEqual([1, -2, 0.5, 3]);
    expect(decodeValues('F64', new Uint8Array(0))).toHaveLength(0);
  });

  it('refuses a byte count that is not whole elements', () => {
    expect(() => decodeValues('F32', new Uint8Array(6))).toThrow(FerryError);
  });
});
