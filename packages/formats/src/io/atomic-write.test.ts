import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeAll, writeFileAtomic } from './atomic-write.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = Buffer.from('model bytes\n');

describe('writeFileAtomic', () => {
  it('replaces a regular file whole and leaves no temp file', async () => {
    const path = join(dir, 'out.bin');
    await writeFile(path, 'old');
    await writeFileAtomic(path, (file) => writeAll(file, bytes));
    expect(await readFile(path)).toEqual(bytes);
    expect(await readdir(dir)).toEqual(['out.bin']);
  });

  it('leaves the target untouched and no temp file when the writer fails', async () => {
    const path = join(dir, 'out.bin');
    await writeFile(path, 'old');
    await expect(
      writeFileAtomic(path, async () => {
        throw new Error('disk on fire');
      }),
    ).rejects.toThrow(/disk on fire/);
    expect(await readFile(path, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['out.bin']);
  });

  it('writes into /dev/null and leaves it a character device (a rename would replace the node)', async () => {
    await writeFileAtomic('/dev/null', (file) => writeAll(file, bytes));
    expect((await lstat('/dev/null')).isCharacterDevice()).toBe(true);
  });

  it('writes into a named pipe, through a symlink, and the pipe stays a pipe', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const link = join(dir, 'link');
    await symlink(fifo, link);
    const read = new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      createReadStream(fifo)
        .on('data', (part) => parts.push(part as Buffer))
        .on('end', () => resolve(Buffer.concat(parts)))
        .on('error', reject);
    });
    await writeFileAtomic(link, (file) => writeAll(file, bytes));
    expect(await read).toEqual(bytes);
    expect((await stat(link)).isFIFO()).toBe(true);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['link', 'pipe']);
  });
});
