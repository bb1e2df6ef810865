import { randomUUID } from 'node:crypto';
import {
  copyFile,
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Default bound of the local chunk cache: a few checkpoints of a mid-size model. */
export const DEFAULT_CACHE_MAX_BYTES = 20 * 1024 ** 3;

/** The user's cache folder for ferry's chunks: $FERRY_CACHE_DIR, else $XDG_CACHE_HOME/ferry/chunks, else ~/.cache/ferry/chunks. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FERRY_CACHE_DIR) return env.FERRY_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ferry', 'chunks');
}

/** A chunk of a cached file: its sha256 and where its bytes are. */
export interface CachedChunk {
  readonly sha256: string;
  readonly offset: number;
  readonly size: number;
}

export interface CacheEntry {
  /** 'file': a pulled file and its chunk list; 'chunk': one chunk on its own (the cache's first layout). */
  readonly kind: 'file' | 'chunk';
  readonly sha256: string;
  readonly size: number;
  /** Chunks the entry holds (1 for a 'chunk' entry). */
  readonly chunks: number;
  /** True when the same bytes are also a pulled file (a hard link): removing the entry frees no disk. */
  readonly linked: boolean;
  /** Last use: pruning removes the least recently used first. */
  readonly used: Date;
}

const SHA = /^[0-9a-f]{64}$/;

/** A file entry's chunk list as stored (`<sha256>.json`): compact rows, and the data file's stamp. */
interface ChunkList {
  /** Inode, size and mtime in ns of the data file when it entered the cache. */
  stamp: string | undefined;
  chunks: [string, number, number][];
}

/** What changes when anything writes into a file: its inode (replaced), size or mtime. */
async function stampOf(path: string): Promise<string | undefined> {
  const info = await stat(path, { bigint: true }).catch(() => undefined);
  return info && `${info.ino}:${info.size}:${info.mtimeNs}`;
}
const FILES = 'files';

/**
 * Chunks pulled before, so a pull fetches only the chunks it lacks (issue #20).
 *
 * Layout: `<dir>/files/<sha256>` is a whole pulled file, hard-linked to the file the pull wrote
 * (copied when the link fails, e.g. the pull's target is on another filesystem), and
 * `<dir>/files/<sha256>.json` its chunk list (sha256, offset, size), whose mtime is the entry's last
 * use. Why whole files and not one file per chunk: a pull then writes every byte once (the link is
 * a metadata write), where a chunk store writes each fetched byte twice (the file and the cache:
 * half of a cold pull's disk and system time). Why a link and not a reference to the pulled path:
 * pulled files get moved, deleted and rewritten; the link keeps the bytes the entry names even
 * when the user's copy is gone or replaced by rename.
 *
 * What keeps it honest: a file whose link was written through in place (a tool writing into the
 * pulled copy) no longer holds its chunks. Such a write changes the file's mtime, so an entry
 * whose data file is not the inode, size and mtime (to the nanosecond) recorded when it entered
 * has every chunk hashed on read, and a chunk that fails is fetched instead (the entry is dropped
 * after the pull); an unchanged entry's chunks are used as they are (hashing them would cost a
 * pass over every cached byte of every pull). Either way the pull verifies the whole file it
 * assembles, and if that fails it drops the unhashed entries it used and downloads the file whole.
 * Entries appear by rename (data first, chunk list last), so a killed pull leaves at most a temp
 * file that prune removes. Bounded: after each pull the least recently used entries go until the
 * cache fits `maxBytes` (counted as if unshared: a linked entry's bytes are freed only once the
 * pulled copy is deleted too; `ls` says how much is shared).
 */
export class ChunkCache {
  constructor(
    readonly dir: string = defaultCacheDir(),
    readonly maxBytes: number = DEFAULT_CACHE_MAX_BYTES,
  ) {}

  /** Where a cached file's bytes are. */
  filePath(sha256: string): string {
    return join(this.dir, FILES, sha256);
  }

  /**
   * Every cached chunk by sha256, with the file that holds it (the first listed when several do).
   * `trusted`: the file is the same inode, size and mtime (to the nanosecond) as when it entered
   * the cache, so nothing wrote into it since; other entries' chunks must be hashed on read.
   * Read once per pulled file: a cache holds a few dozen files, each a list of some thousand chunks.
   */
  async chunks(): Promise<Map<string, CachedChunk & { path: string; file: string; trusted: boolean }>> {
    const out = new Map<string, CachedChunk & { path: string; file: string; trusted: boolean }>();
    for (const name of await readdir(join(this.dir, FILES)).catch(() => [] as string[])) {
      const file = name.slice(0, -'.json'.length);
      if (!name.endsWith('.json') || !SHA.test(file)) continue;
      const list = await this.chunkList(file);
      if (!list) continue;
      const trusted = list.stamp === (await stampOf(this.filePath(file)));
      for (const c of list.chunks)
        if (!out.has(c.sha256)) out.set(c.sha256, { ...c, path: this.filePath(file), file, trusted });
    }
    return out;
  }

  /**
   * Adds a verified pulled file (`path`, whose sha256 is `sha256`) with its chunks: a hard link
   * when it can, else a copy (copy_file_range: no pass through this process).
   */
  async addFile(sha256: string, path: string, chunks: readonly CachedChunk[]): Promise<void> {
    await mkdir(join(this.dir, FILES), { recursive: true });
    const target = this.filePath(sha256);
    const temp = `${target}.tmp-${randomUUID()}`;
    try {
      await link(path, temp).catch(() => copyFile(path, temp));
      await rename(temp, target);
      const list: ChunkList = {
        stamp: await stampOf(target),
        chunks: chunks.map((c) => [c.sha256, c.offset, c.size]),
      };
      await writeFile(`${temp}.json`, JSON.stringify(list));
      await rename(`${temp}.json`, `${target}.json`);
    } finally {
      await rm(temp, { force: true });
      await rm(`${temp}.json`, { force: true });
    }
  }

  /** Marks a file entry used now (for least-recently-used pruning): its chunk list's mtime, never the shared data's. */
  async touch(sha256: string): Promise<void> {
    const now = new Date();
    await utimes(`${this.filePath(sha256)}.json`, now, now).catch(() => undefined);
  }

  /** Removes a file entry (its bytes no longer match its chunks). */
  async drop(sha256: string): Promise<void> {
    await rm(`${this.filePath(sha256)}.json`, { force: true });
    await rm(this.filePath(sha256), { force: true });
  }

  async list(): Promise<CacheEntry[]> {
    const out: CacheEntry[] = [];
    for (const name of await readdir(join(this.dir, FILES)).catch(() => [] as string[])) {
      if (!SHA.test(name)) continue;
      const data = await stat(this.filePath(name)).catch(() => undefined);
      const list = await stat(`${this.filePath(name)}.json`).catch(() => undefined);
      const chunks = list && (await this.chunkList(name))?.chunks;
      if (data?.isFile() && chunks)
        out.push({
          kind: 'file',
          sha256: name,
          size: data.size,
          chunks: new Set(chunks.map((c) => c.sha256)).size,
          linked: data.nlink > 1,
          used: list.mtime,
        });
    }
    // The first layout (<dir>/ab/<sha256>, one file per chunk): no longer read, still counted and pruned.
    for (const prefix of await this.legacyFolders())
      for (const name of await readdir(join(this.dir, prefix)).catch(() => [] as string[])) {
        const info = await stat(join(this.dir, prefix, name)).catch(() => undefined);
        if (SHA.test(name) && info?.isFile())
          out.push({
            kind: 'chunk',
            sha256: name,
            size: info.size,
            chunks: 1,
            linked: false,
            used: info.mtime,
          });
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
    // Entries of the first layout are never read any more: they go before any pulled file.
    const rank = (e: CacheEntry) => (e.kind === 'chunk' ? 0 : 1);
    const entries = (await this.list()).sort(
      (a, b) => rank(a) - rank(b) || a.used.getTime() - b.used.getTime(),
    );
    let total = entries.reduce((n, e) => n + e.size, 0);
    let removed = 0;
    let bytes = 0;
    for (const entry of entries) {
      if (total <= maxBytes) break;
      if (entry.kind === 'file') await this.drop(entry.sha256);
      else await rm(join(this.dir, entry.sha256.slice(0, 2), entry.sha256), { force: true });
      total -= entry.size;
      removed++;
      bytes += entry.size;
    }
    const hourAgo = Date.now() - 3600_000;
    for (const folder of [FILES, ...(await this.legacyFolders())])
      for (const name of await readdir(join(this.dir, folder)).catch(() => [] as string[])) {
        const info = await stat(join(this.dir, folder, name)).catch(() => undefined);
        const orphan =
          name.endsWith('.json') &&
          !(await stat(join(this.dir, folder, name.slice(0, -5))).catch(() => undefined));
        if (info && (name.includes('.tmp-') || orphan) && info.mtimeMs < hourAgo)
          await rm(join(this.dir, folder, name), { force: true });
      }
    return { removed, bytes, kept: entries.length - removed, keptBytes: total };
  }

  private async chunkList(
    sha256: string,
  ): Promise<{ stamp: string | undefined; chunks: CachedChunk[] } | undefined> {
    try {
      const list = JSON.parse(await readFile(`${this.filePath(sha256)}.json`, 'utf8')) as Partial<ChunkList>;
      if (!Array.isArray(list.chunks)) return undefined;
      const out: CachedChunk[] = [];
      for (const row of list.chunks) {
        const [sha, offset, size] = row as [unknown, unknown, unknown];
        // A damaged list is skipped, not trusted.
        if (
          typeof sha !== 'string' ||
          !SHA.test(sha) ||
          !Number.isSafeInteger(offset) ||
          !Number.isSafeInteger(size)
        )
          return undefined;
        out.push({ sha256: sha, offset: offset as number, size: size as number });
      }
      return { stamp: typeof list.stamp === 'string' ? list.stamp : undefined, chunks: out };
    } catch {
      return undefined;
    }
  }

  private async legacyFolders(): Promise<string[]> {
    return (await readdir(this.dir).catch(() => [] as string[])).filter((n) => /^[0-9a-f]{2}$/.test(n));
  }
}
