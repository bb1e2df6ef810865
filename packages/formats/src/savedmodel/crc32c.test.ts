import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cExtend, crc32cMask, crc32cUnmask } from './crc32c.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32c', () => {
  // Check values: the CRC catalogue's CRC-32/ISCSI check and RFC 3720 appendix B.4 vectors.
  it('matches the published check values', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('extends over split input exactly like one pass', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (bytes, cut) => {
        const at = Math.min(cut, bytes.length);
        expect(crc32cExtend(crc32c(bytes.subarray(0, at)), bytes.subarray(at))).toBe(crc32c(bytes));
      }),
      { numRuns: 200 },
    );
  });

  it('masks and unmasks as LevelDB does', () => {
    // leveldb util/crc32c_test.cc: Mask(crc) != crc, Unmask(Mask(crc)) == crc.
    const crc = crc32c(ascii('foo'));
    expect(crc32cMask(crc)).not.toBe(crc);
    expect(crc32cMask(crc32cMask(crc))).not.toBe(crc);
    expect(crc32cUnmask(crc32cMask(crc))).toBe(crc);
    expect(crc32cUnmask(crc32cUnmask(crc32cMask(crc32cMask(crc))))).toBe(crc);
    fc.assert(fc.property(fc.nat(0xffffffff), (v) => crc32cUnmask(crc32cMask(v)) === v));
  });
});
