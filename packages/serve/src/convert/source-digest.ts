import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { serveError } from '../errors.js';
import { MAX_SOURCE_DEPTH, MAX_SOURCE_FILES } from '../limits.js';

/** A model's source: its files (sorted, relative to `root`) with the size and mtime each had when listed. */
export interface SourceFiles {
  readonly root: string;
  readonly files: readonly { readonly rel: string; readonly size: number; readonly mtimeMs: number }[];
}

/**
 * Every regular file under `root` (or `root` itself when it is a file), sorted, following links
 * (a repository may link shards in) but bounded in count and depth so a loop or a runaway
 * folder fails with one line instead of walking forever.
 */
export async function listSourceFiles(root: string): Promise<SourceFiles> {
  const top = await stat(root).catch(() => undefined);
  if (!top) throw serveError('FERRY_SERVE_REPOSITORY', { path: root, reason: 'no such file or folder' });
  if (top.isFile()) return { root, files: [{ rel: '', size: top.size, mtimeMs: top.mtimeMs }] };
  const files: { rel: string; size: number; mtimeMs: number }[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_SOURCE_DEPTH)
      throw serveError('FERRY_SERVE_REPOSITORY', {
        path: dir,
        reason: `nested deeper than ${MAX_SOURCE_DEPTH} folders (a link loop?)`,
      });
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue; // a dangling link defines nothing
      if (info.isDirectory()) await walk(path, depth + 1);
      else if (info.isFile()) {
        if (files.length >= MAX_SOURCE_FILES)
          throw serveError('FERRY_SERVE_REPOSITORY', {
            path: root,
            reason: `holds more than ${MAX_SOURCE_FILES} files`,
          });
        files.push({
          rel: relative(root, path).split('\\').join('/'),
          size: info.size,
          mtimeMs: info.mtimeMs,
        });
      }
    }
  };
  await walk(root, 0);
  return { root, files };
}

/** Size and mtime of every file: changes when any file does (what polling compares). */
export function sourceFingerprint(source: SourceFiles): string {
  return createHash('sha256')
    .update(JSON.stringify(source.files.map((f) => [f.rel, f.size, f.mtimeMs])))
    .digest('hex')
    .slice(0, 32);
}

const memo = new Map<string, { fingerprint: string; digest: string }>();

/**
 * sha256 over each file's relative path, size and bytes, in sorted order: two copies of a model
 * share a digest wherever they lie. Remembered per root while sizes and mtimes stay the same, so
 * polling does not re-read gigabytes every few seconds.
 */
export async function sourceDigest(source: SourceFiles): Promise<string> {
  const fingerprint = sourceFingerprint(source);
  const known = memo.get(source.root);
  if (known?.fingerprint === fingerprint) return known.digest;
  const hash = createHash('sha256');
  for (const file of source.files) {
    hash.update(`${file.rel}\0${file.size}\0`);
    const path = file.rel === '' ? source.root : join(source.root, file.rel);
    let read = 0;
    for await (const chunk of createReadStream(path)) {
      read += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
    }
    // a file rewritten while hashing would give a digest of neither version
    if (read !== file.size)
      throw serveError('FERRY_SERVE_REPOSITORY', {
        path,
        reason: `changed while being read (${read} bytes, listed as ${file.size})`,
      });
  }
  const digest = hash.digest('hex');
  memo.set(source.root, { fingerprint, digest });
  return digest;
}
