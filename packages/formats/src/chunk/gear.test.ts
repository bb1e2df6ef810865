import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cdcCut, GEAR } from './gear.js';
import { CDC_AVG_BYTES, CDC_MAX_BYTES, CDC_MIN_BYTES } from './limits.js';

function cuts(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let at = 0; at < bytes.length; ) {
    at = cdcCut(bytes, at, bytes.length);
    out.push(at);
  }
  return out;
}

describe('cdcCut', () => {
  it('has a fixed, distinct Gear table', () => {
    expect(GEAR.length).toBe(256);
    expect(new Set(GEAR).size).toBe(256);
    // The table is part of every chunk id: pin it.
    expect([...GEAR.slice(0, 2)].map((x) => x.toString(16))).toMatchInlineSnapshot(`
      [
        "79f12680",
        "63e37b03",
      ]
    `);
  });

  it('keeps chunk sizes within [min, max] and near the average on random data', () => {
    const bytes = randomBytes(16 * 1024 * 1024);
    const ends = cuts(bytes);
    const sizes = ends.map((end, i) => end - (ends[i - 1] ?? 0));
    for (const size of sizes.slice(0, -1)) {
      expect(size).toBeGreaterThanOrEqual(CDC_MIN_BYTES);
      expect(size).toBeLessThanOrEqual(CDC_MAX_BYTES);
    }
    const mean = bytes.length / sizes.length;
    expect(mean).toBeGreaterThan(CDC_AVG_BYTES * 0.6);
    expect(mean).toBeLessThan(CDC_AVG_BYTES * 1.4);
  });

  it('resynchronises after an insertion: later cut points are the same', () => {
    const bytes = randomBytes(4 * 1024 * 1024);
    const shifted = Buffer.concat([randomBytes(1000), bytes]);
    const a = new Set(cuts(bytes));
    const b = cuts(shifted).map((c) => c - 1000);
    const shared = b.filter((c) => a.has(c)).length;
    expect(shared / a.size).toBeGreaterThan(0.9);
  });
});
