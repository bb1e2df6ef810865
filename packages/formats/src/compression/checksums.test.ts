import { describe, expect, it } from 'vitest';
import { crc64Hex } from './crc64.js';
import { XxHash32, xxhash32 } from './xxhash32.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('checksums of the compressed formats', () => {
  it('CRC-64/XZ: the catalogue check value and the empty string', () => {
    // reveng CRC catalogue, CRC-64/XZ: check = 0x995dc9bbdf1939fa.
    expect(crc64Hex(ascii('123456789'))).toBe('995dc9bbdf1939fa');
    expect(crc64Hex(new Uint8Array(0))).toBe('0000000000000000');
  });

  it('xxHash32 seed 0: reference values, and incremental equals one-shot at every split', () => {
    // xxhash's own sanity values: XXH32("", 0) and XXH32("abc", 0).
    expect(xxhash32(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxhash32(ascii('abc'))).toBe(0x32d153ff);
    const data = Uint8Array.from({ length: 101 }, (_, i) => (i * 37) & 0xff);
    for (const split of [0, 1, 15, 16, 17, 33, 100, 101]) {
      const h = new XxHash32();
      h.update(data.subarray(0, split));
      h.update(data.subarray(split));
      expect(h.digest(), `split ${split}`).toBe(xxhash32(data));
    }
  });
});
