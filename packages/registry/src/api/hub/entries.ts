import { createHash } from 'node:crypto';
import type { ModelVersion, VersionFile } from '../../store/types.js';

/** The Hub's commit ids are 40 hex digits (git sha1); a version's digest prefix plays that role. */
export const commitOf = (v: ModelVersion) => (v.digest ?? '').slice(0, 40);

/**
 * Every ferry file is served the way the Hub serves an LFS file: `oid` is the git blob id of the
 * LFS pointer text (what the Hub reports for LFS files), `lfs.oid` the content's sha256.
 */
function lfsPointer(file: VersionFile): string {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${file.sha256}\nsize ${file.size}\n`;
}

function gitBlobId(text: string): string {
  const bytes = Buffer.from(text);
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export interface TreeEntry {
  readonly type: 'file' | 'directory';
  readonly oid: string;
  readonly size: number;
  readonly path: string;
  readonly lfs?: { oid: string; size: number; pointerSize: number };
  readonly lastCommit?: { id: string; title: string; date: string };
}

export function fileEntry(file: VersionFile, commit?: TreeEntry['lastCommit']): TreeEntry {
  const pointer = lfsPointer(file);
  return {
    type: 'file',
    oid: gitBlobId(pointer),
    size: file.size,
    path: file.path,
    lfs: { oid: file.sha256, size: file.size, pointerSize: Buffer.byteLength(pointer) },
    ...(commit && { lastCommit: commit }),
  };
}

function dirEntry(path: string, commit?: TreeEntry['lastCommit']): TreeEntry {
  return {
    type: 'directory',
    oid: gitBlobId(`tree ${path}`),
    size: 0,
    path,
    ...(commit && { lastCommit: commit }),
  };
}

/** The entries under `prefix` ('' = root): direct children, or everything below when recursive. */
export function treeEntries(
  version: ModelVersion,
  prefix: string,
  recursive: boolean,
  commit?: TreeEntry['lastCommit'],
): TreeEntry[] | undefined {
  const base = prefix === '' ? '' : `${prefix}/`;
  const below = version.files.filter((f) => f.path.startsWith(base));
  if (prefix !== '' && below.length === 0) return undefined;
  const entries = new Map<string, TreeEntry>();
  for (const file of below) {
    const rest = file.path.slice(base.length).split('/');
    // Every folder on the way is an entry of its own (the Hub lists them in recursive trees too).
    for (let depth = 1; depth < rest.length && (recursive || depth === 1); depth++) {
      const dir = base + rest.slice(0, depth).join('/');
      if (!entries.has(dir)) entries.set(dir, dirEntry(dir, commit));
    }
    if (recursive || rest.length === 1) entries.set(file.path, fileEntry(file, commit));
  }
  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function pathEntry(
  version: ModelVersion,
  path: string,
  commit?: TreeEntry['lastCommit'],
): TreeEntry | undefined {
  const file = version.files.find((f) => f.path === path);
  if (file) return fileEntry(file, commit);
  return version.files.some((f) => f.path.startsWith(`${path}/`)) ? dirEntry(path, commit) : undefined;
}
