import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bufferInput, compressionOf, decompress } from '../src/compression/index.js';
import { isFerryError } from '../src/errors.js';

// Streams written by Python's bz2, lzma, lz4.frame, zlib and gzip (fixtures/make/compressed_files.py).
const DIR = new URL('../../../fixtures/compression/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', DIR), 'utf8')) as {
  payloads: Record<string, { sha256: string; length: number }>;
  streams: Record<string, string>;
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const read = (name: string) => new Uint8Array(readFileSync(new URL(name, DIR)));

async function inflate(name: string, bytes = read(name)) {
  const compression = compressionOf(bytes);
  if (!compression) throw new Error(`${name}: no compression magic`);
  return decompress(compression, bufferInput(bytes), name);
}

describe('decoders reproduce what Python compressed', () => {
  it.each(Object.entries(expected.streams).filter(([n]) => n !== 'delta.xz'))('%s', async (name, which) => {
    const { bytes, trailing } = await inflate(name);
    expect(trailing).toBe(0);
    expect(bytes.length).toBe(expected.payloads[which]!.length);
    expect(sha(bytes)).toBe(expected.payloads[which]!.sha256);
  });

  it('refuses an xz filter it does not decode, by name', async () => {
    await expect(inflate('delta.xz')).rejects.toMatchObject({
      code: 'FERRY_UNSUPPORTED',
      message: expect.stringMatching(/xz filter delta at byte 12/),
    });
  });
});
