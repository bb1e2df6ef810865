import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashFileAside } from '../src/file-hash-worker.js';

const dir = await mkdtemp(join(tmpdir(), 'ferry-hash-aside-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('hashFileAside', () => {
  it('hashes a complete file on a worker thread, over several of its reads', async () => {
    const bytes = randomBytes(9 * 1024 * 1024 + 17); // past two 4 MiB reads
    const path = join(dir, 'whole.bin');
    await writeFile(path, bytes);
    expect(await hashFileAside(path, { size: bytes.length }).finish(bytes.length)).toBe(sha(bytes));
  });

  it('hashes a growing file as far as it is told, then the rest at the end', async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(3), randomBytes(1024 * 1024)];
    const path = join(dir, 'growing.bin');
    await writeFile(path, parts[0]!);
    const hash = hashFileAside(path);
    hash.advance(parts[0]!.length);
    await appendFile(path, parts[1]!);
    hash.advance(parts[0]!.length + 3);
    await appendFile(path, parts[2]!);
    const all = Buffer.concat(parts);
    expect(await hash.finish(all.length)).toBe(sha(all));
  });

  it('fails, naming the file, when the file is shorter than the size it is finished at', async () => {
    const path = join(dir, 'short.bin');
    await writeFile(path, randomBytes(1000));
    await expect(hashFileAside(path).finish(2000)).rejects.toThrow(`${path} ended at byte 1000, before 2000`);
  });

  it('answers once when told the end twice before it started (a push finishing a small file at once)', async () => {
    const bytes = randomBytes(100);
    const path = join(dir, 'twice.bin');
    await writeFile(path, bytes);
    for (let i = 0; i < 20; i++)
      expect(await hashFileAside(path, { size: 100 }).finish(100)).toBe(sha(bytes));
  });

  it('hashes an empty file', async () => {
    const path = join(dir, 'empty.bin');
    await writeFile(path, '');
    expect(await hashFileAside(path, { size: 0 }).finish(0)).toBe(sha(Buffer.alloc(0)));
  });
});
