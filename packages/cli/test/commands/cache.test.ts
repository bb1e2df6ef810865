import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
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
  it('lists the chunks, prunes least recently used first, and empties with --max-size 0', async () => {
    const cache = new ChunkCache(join(dir, 'c'));
    const shas: string[] = [];
    for (let i = 0; i < 3; i++) {
      const bytes = randomBytes(1000);
      const sha = createHash('sha256').update(bytes).digest('hex');
      await (await cache.stage(sha, bytes)).commit();
      // oldest first: entry 0 was used longest ago
      const when = new Date(Date.now() - (3 - i) * 60_000);
      await utimes(cache.path(sha), when, when);
      shas.push(sha);
    }
    const ls = await runCli(['cache', 'ls', '--dir', cache.dir, '--json']);
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.stdout)).toMatchObject({ dir: cache.dir, chunks: 3, bytes: 3000 });

    const pruned = await runCli(['cache', 'prune', '--dir', cache.dir, '--max-size', '2500']);
    expect(pruned.stdout).toBe(`${cache.dir}: removed 1 chunk(s), 1000 B; kept 2, 1.95 KiB\n`);
    expect((await cache.list()).map((e) => e.sha256).sort()).toEqual(shas.slice(1).sort());

    const empty = await runCli(['cache', 'prune', '--dir', cache.dir, '--max-size', '0', '--json']);
    expect(JSON.parse(empty.stdout)).toMatchObject({ removed: 2, kept: 0, keptBytes: 0 });
  });

  it('refuses an unknown action with exit 2', async () => {
    const bad = await runCli(['cache', 'clear']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('cache takes one action: ls or prune');
  });
});
