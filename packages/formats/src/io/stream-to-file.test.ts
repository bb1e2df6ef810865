import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { writeStreamToFile } from './stream-to-file.js';

const dir = await mkdtemp(join(tmpdir(), 'ferry-stream-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function* chunksOf(bytes: Buffer, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]!);
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

describe('writeStreamToFile', () => {
  it('writes any chunking of a stream byte-exactly, whatever the buffer size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 600 }),
        async (length, sizes, bufferBytes) => {
          const bytes = randomBytes(length);
          const path = join(dir, 'any.bin');
          const file = await open(path, 'w');
          try {
            expect(await writeStreamToFile(file, chunksOf(bytes, sizes), 0, bufferBytes)).toBe(length);
          } finally {
            await file.close();
          }
          expect((await readFile(path)).equals(bytes)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('writes from a position, keeping the bytes before it (a resumed upload)', async () => {
    const path = join(dir, 'resumed.bin');
    const head = randomBytes(1000);
    const tail = randomBytes(10_000);
    await writeFile(path, head);
    const file = await open(path, 'r+');
    try {
      expect(await writeStreamToFile(file, chunksOf(tail, [333]), head.length, 4096)).toBe(tail.length);
    } finally {
      await file.close();
    }
    expect((await readFile(path)).equals(Buffer.concat([head, tail]))).toBe(true);
  });

  it('rejects with the source error, and with a write error (a read-only handle)', async () => {
    const path = join(dir, 'errors.bin');
    await writeFile(path, '');
    const writable = await open(path, 'w');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10);
      throw new Error('connection reset');
    }
    await expect(writeStreamToFile(writable, failing(), 0, 4)).rejects.toThrow('connection reset');
    await writable.close();
    const readOnly = await open(path, 'r');
    await expect(writeStreamToFile(readOnly, chunksOf(randomBytes(100), [10]), 0, 16)).rejects.toMatchObject({
      code: 'EBADF',
    });
    await readOnly.close();
  });
});
