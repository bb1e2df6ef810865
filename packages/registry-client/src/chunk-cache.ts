import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Default bound of the local chunk cache: a few checkpoints of a mid-size model. */
export const DEFAULT_CACHE_MAX_BYTES = 20 * 1024 ** 3;

/** The user's cache folder for ferry's chunks: $FERRY_CACHE_DIR, else $XDG_CACHE_HOME/ferry/chunks, else ~/.cache/ferry/chunks. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FERRY_CACHE_DIR) return env.FERRY_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ferry', 'chunks');
}

export interface CacheEntry {
  readonly sha256: string;
  readonly size: number;
  /** Last use (the file's mtime, set on every use): pruning removes the least recently used first. */
  readonly used: Date;
}

const SHA = /^[0-9a-f]{64}$/;

/**
 * Chunks pulled before, by sha256 (`<dir>/ab/abcdef...`), so a pull fetches only the chunks it
 * lacks. Entries are written to a temp name and renamed in only after the whole file they came in
 * verified, so an entry's name never lies; a pull still verifies every file it assembles. Bounded:
 * after each pull the least recently used entries go until the cache fits `maxBytes`.
 */
export class ChunkCache {
  constructor(
    readonly dir: string = defaultCacheDir(),
    readonly maxBytes: number = DEFAULT_CACHE_MAX_BYTES,
  ) {}

  path(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  /** Size of a cached chunk, or undefined. */
  async size(sha256: string): Promise<number | undefined> {
    return (await stat(this.path(sha256)).catch(() => undefined))?.size;
  }

  /** Marks an entry used now (for least-recently-used pruning). */
  async touch(sha256: string): Promise<void> {
    const now = new Date();
    await utimes(this.path(sha256), now, now).catch(() => undefined);
  }

  /** Writes a chunk under a temp name; `commit` renames it in, `discard` removes it. */
  async stage(
    sha256: string,
    bytes: Uint8Array,
  ): Promise<{ path: string; commit(): Promise<void>; discard(): Promise<void> }> {
    const target = this.path(sha256);
    await mkdir(join(target, '..'), { recursive: true });
    const temp = `${target}.tmp-${randomUUID()}`;
    const file = await open(temp, 'w');
    try {
      await file.write(bytes);
    } finally {
      await file.close();
    }
    return {
      path: temp,
      commit: () => rename(temp, target),
      discard: () => rm(temp, { force: true }),
    };
  }

  async list(): Promise<CacheEntry[]> {
    const out: CacheEntry[] = [];
    for (const prefix of await readdir(this.dir).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const name of await readdir(join(this.dir, prefix)).catch(() => [] as string[])) {
        const info = await stat(join(this.dir, prefix, name)).catch(() => undefined);
        if (SHA.test(name) && info?.isFile()) out.push({ sha256: name, size: info.size, used: info.mtime });
      }
    }
    return out;
  }

  /**
   * Removes least recently used entries until the cache holds at most `maxBytes` (default: its
   * bound), and temp files older than an hour (a pull killed midway). Answers what went.
   */
  async prune(
    maxBytes = this.maxBytes,
  ): Promise<{ removed: number; bytes: number; kept: number; keptBytes: number }> {
    const entries = (await this.list()).sort((a, b) => a.used.getTime() - b.used.getTime());
    let total = entries.reduce((n, e) => n + e.size, 0);
    let removed = 0;
    let bytes = 0;
    for (const entry of entries) {
      if (total <= maxBytes) break;
      await rm(this.path(entry.sha256), { force: true });
      total -= entry.size;
      removed++;
      bytes += entry.size;
    }
    const hourAgo = Date.now() - 3600_000;
    for (const prefix of await readdir(this.dir).catch(() => [] as string[]))
      for (const name of await readdir(join(this.dir, prefix)).catch(() => [] as string[])) {
        if (!name.includes('.tmp-')) continue;
        const info = await stat(join(this.dir, prefix, name)).catch(() => undefined);
        if (info && info.mtimeMs < hourAgo) await rm(join(this.dir, prefix, name), { force: true });
      }
    return { removed, bytes, kept: entries.length - removed, keptBytes: total };
  }
}
