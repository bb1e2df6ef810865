import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_CHUNK_BYTES } from '../limits.js';
import { PACK_HEADER_BYTES, readPack } from './chunk-pack.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function pack(chunks: Buffer[]): Buffer {
  return Buffer.concat(
    chunks.flatMap((c) => {
      const header = Buffer.alloc(PACK_HEADER_BYTES);
      header.write(sha(c), 0, 'hex');
      header.writeUInt32BE(c.length, 32);
      return [header, c];
    }),
  );
}

async function* pieces(bytes: Buffer, size: number) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function read(body: AsyncIterable<Uint8Array>) {
  const out: { sha256: string; bytes: Buffer }[] = [];
  for await (const c of readPack(body)) out.push({ sha256: c.sha256, bytes: Buffer.from(c.bytes) });
  return out;
}

describe('readPack', () => {
  it('yields each chunk whole however the body is split', async () => {
    const chunks = [randomBytes(1), randomBytes(70_000), randomBytes(37)];
    for (const size of [1, 7, 36, 37, 4096, 1 << 20]) {
      const got = await read(pieces(pack(chunks), size));
      expect(got.map((c) => c.sha256)).toEqual(chunks.map(sha));
      expect(got.map((c) => sha(c.bytes))).toEqual(chunks.map(sha));
    }
  });

  it('refuses a body that ends inside a header or a chunk', async () => {
    const body = pack([randomBytes(100)]);
    await expect(read(pieces(body.subarray(0, 20), 8))).rejects.toThrow(
      /ends inside a chunk \(20 header bytes\)/,
    );
    await expect(read(pieces(body.subarray(0, 90), 8))).rejects.toThrow(
      /ends inside a chunk \(54 of 100 bytes\)/,
    );
  });

  it('refuses a chunk size of 0 or over MAX_CHUNK_BYTES before allocating', async () => {
    const header = Buffer.alloc(PACK_HEADER_BYTES);
    header.writeUInt32BE(MAX_CHUNK_BYTES + 1, 32);
    await expect(read(pieces(header, 64))).rejects.toThrow(/MAX_CHUNK_BYTES/);
    header.writeUInt32BE(0, 32);
    await expect(read(pieces(header, 64))).rejects.toThrow(/size 0/);
  });
});
