import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkCache } from '@ferry/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.helper.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-cli-cache-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ferry cache ls|prune', () => {
  it('lists the files and chunks, prunes least recently used first, and empties with --max-size 0', async () => {
    const cache = new ChunkCache(join(dir, 'c'));
    const shas: string[] = [];
    for (let i = 0; i < 3; i++) {
      // A pulled file of two 500-byte chunks, entered into the cache as pull does (a hard link).
      const bytes = randomBytes(1000);
      const sha = createHash('sha256').update(bytes).digest('hex');
      const pulled = join(dir, `pulled-${i}.bin`);
      await writeFile(pulled, bytes);
      const half = (at: number) =>
        createHash('sha256')
          .update(bytes.subarray(at, at + 500))
          .digest('hex');
      await cache.addFile(sha, pulled, [
        { sha256: half(0), offset: 0, size: 500 },
        { sha256: half(500), offset: 500, size: 500 },
      ]);
      // oldest first: entry 0 was used longest ago
      const when = new Date(Date.now() - (3 - i) * 60_000);
      await utimes(`${cache.filePath(sha)}.json`, when, when);
      shas.push(sha);
    }
    // The pulled copy of file 0 is deleted: its bytes are the cache's alone now.
    await rm(join(dir, 'pulled-0.bin'));
    const ls = await runCli(['cache', 'ls', '--dir', cache.dir, '--json']);
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.stdout)).toMatchObject({
      dir: cache.dir,
      chunks: 6,
      files: 3,
      bytes: 3000,
      linkedBytes: 2000,
    });
    const text = await runCli(['cache', 'ls', '--dir', cache.dir]);
    expect(text.stdout).toContain(
      ': 6 chunk(s) in 3 file(s), 2.93 KiB, 1.95 KiB of it shared with pulled files',
    );

    const pruned = await runCli(['cache', 'prune', '--dir', cache.dir, '--max-size', '2500']);
    expect(pruned.stdout).toBe(`${cache.dir}: removed 1 entry, 1000 B; kept 2, 1.95 KiB\n`);
    expect((await cache.list()).map((e) => e.sha256).sort()).toEqual(shas.slice(1).sort());
    // Pruning removes the cache's link, never the pulled file it shares bytes with.
    expect((await readFile(join(dir, 'pulled-1.bin'))).length).toBe(1000);

    const empty = await runCli(['cache', 'prune', '--dir', cache.dir, '--max-size', '0', '--json']);
    expect(JSON.parse(empty.stdout)).toMatchObject({ removed: 2, kept: 0, keptBytes: 0 });
    expect((await readFile(join(dir, 'pulled-2.bin'))).length).toBe(1000);
  });

  it('counts chunks of the first layout (one file per chunk) and prunes them before any pulled file', async () => {
    const cache = new ChunkCache(join(dir, 'legacy'));
    const bytes = randomBytes(800);
    const sha = createHash('sha256').update(bytes).digest('hex');
    await mkdir(join(cache.dir, sha.slice(0, 2)), { recursive: true });
    await writeFile(join(cache.dir, sha.slice(0, 2), sha), bytes);
    const pulled = randomBytes(1000);
    await writeFile(join(dir, 'pulled-l.bin'), pulled);
    const pulledSha = createHash('sha256').update(pulled).digest('hex');
    await cache.addFile(pulledSha, join(dir, 'pulled-l.bin'), [{ sha256: pulledSha, offset: 0, size: 1000 }]);
    // The pulled file was used longest ago; the old-layout chunk still goes first.
    const old = new Date(Date.now() - 3600_000);
    await utimes(`${cache.filePath(pulledSha)}.json`, old, old);
    const ls = await runCli(['cache', 'ls', '--dir', cache.dir, '--json']);
    expect(JSON.parse(ls.stdout)).toMatchObject({ chunks: 2, files: 1, bytes: 1800 });
    const pruned = await runCli(['cache', 'prune', '--dir', cache.dir, '--max-size', '1000', '--json']);
    expect(JSON.parse(pruned.stdout)).toMatchObject({ removed: 1, bytes: 800, kept: 1, keptBytes: 1000 });
    expect((await cache.list()).map((e) => e.kind)).toEqual(['file']);
  });

  it('refuses an unknown action with exit 2', async () => {
    const bad = await runCli(['cache', 'clear']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('cache takes one action: ls or prune');
  });
});
