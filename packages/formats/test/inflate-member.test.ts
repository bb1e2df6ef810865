import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BufferSource } from '../src/tensor/byte-source.js';
import { InflateBudget, inflateRange, openMember, openZip } from '../src/zip/index.js';
import { buildZip } from '../../../scripts/test/zip-builder.js';

/** Text-like data (compresses a few times, far inside MAX_INFLATE_RATIO) with random bytes sprinkled in. */
function data(length: number): Buffer {
  const out = Buffer.alloc(length);
  const noise = randomBytes(length >> 4);
  for (let i = 0; i < length; i++) out[i] = i % 16 === 0 ? noise[i >> 4]! : 0x61 + (i % 7);
  return out;
}

async function archive(bytes: Buffer, name = 'm.bin') {
  const zip = await openZip(new BufferSource(buildZip([{ name, data: bytes, method: 8 }]), 'a.zip'));
  return { zip, entry: zip.entries[0]! };
}

describe('inflateRange (the one bounded inflater)', () => {
  it('returns exactly the bytes asked for, from any offset, across chunk boundaries', async () => {
    const bytes = data(1_000_000);
    const { zip, entry } = await archive(bytes);
    for (const [offset, length] of [
      [0, 10],
      [65_530, 20],
      [123_457, 300_001],
      [999_990, 10],
      [0, 1_000_000],
    ] as const) {
      expect(
        Buffer.from(await inflateRange(zip, entry, offset, length)).equals(
          bytes.subarray(offset, offset + length),
        ),
      ).toBe(true);
    }
    const member = await openMember(zip, entry);
    expect(Buffer.from(await member.read(500, 5)).equals(bytes.subarray(500, 505))).toBe(true);
    await expect(member.read(999_999, 2)).rejects.toMatchObject({ code: 'FERRY_TRUNCATED' });
  });

  it('charges one shared budget for every read, and refuses up front what would exceed it', async () => {
    const { zip, entry } = await archive(data(300_000));
    const budget = new InflateBudget(500_000);
    await inflateRange(zip, entry, 0, 300_000, budget);
    expect(budget.remaining).toBeLessThanOrEqual(200_000);
    await expect(inflateRange(zip, entry, 0, 300_000, budget)).rejects.toMatchObject({
      code: 'FERRY_LIMIT',
      message: expect.stringContaining('MAX_INFLATED_TOTAL'),
    });
  });

  it('a member that is not deflate data is FERRY_ZIP_STRUCTURE', async () => {
    const bytes = buildZip([{ name: 'x', data: Buffer.alloc(100), method: 8, body: Buffer.alloc(40, 0xff) }]);
    const zip = await openZip(new BufferSource(bytes, 'bad.zip'));
    await expect(inflateRange(zip, zip.entries[0]!, 0, 100)).rejects.toMatchObject({
      code: 'FERRY_ZIP_STRUCTURE',
    });
  });
});
