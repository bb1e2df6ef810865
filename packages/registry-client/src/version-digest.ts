import { createHash } from 'node:crypto';

/** sha256 over the sorted file list: the same files give the same digest, whatever the order. */
export function versionDigest(files: readonly { path: string; sha256: string; size: number }[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)))
    hash.update(`${f.path}\0${f.sha256}\0${f.size}\n`);
  return hash.digest('hex');
}
