import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { bundleError } from '../errors.js';
import { MAX_FILES } from '../limits.js';
import { pathProblem } from '../manifest/paths.js';
import type { FileRole } from './bundle-manifest.js';

/** A file to pack: its path in the bundle and where its bytes are on this machine. */
export interface PackFile {
  readonly path: string;
  readonly source: string;
  readonly size: number;
  readonly executable: boolean;
  readonly role: FileRole;
}

/**
 * The regular files under `rel` (a file or a folder) of `root`. Symbolic links are followed only
 * when they resolve inside `root` (CWE-59), and are packed as the files they point to; sockets,
 * FIFOs and devices are refused.
 */
export async function collectFiles(
  root: string,
  rel: string,
  role: FileRole,
  into: PackFile[],
): Promise<void> {
  const full = join(root, rel);
  const real = await realpath(full);
  const inside = relative(root, real);
  if (inside.startsWith(`..${sep}`) || inside === '..' || inside.startsWith(sep))
    throw bundleError('FERRY_BUNDLE_UNSAFE_ENTRY', {
      path: full,
      entry: JSON.stringify(rel),
      rule: 'is a symbolic link that leads outside the project folder',
    });
  const info = await stat(real);
  if (info.isDirectory()) {
    const names = (await readdir(real)).sort();
    for (const name of names) await collectFiles(root, `${rel}/${name}`, role, into);
    return;
  }
  if (!info.isFile())
    throw bundleError('FERRY_BUNDLE_UNSAFE_ENTRY', {
      path: full,
      entry: JSON.stringify(rel),
      rule: 'is not a regular file (socket, FIFO or device)',
    });
  const why = pathProblem(rel);
  if (why)
    throw bundleError('FERRY_BUNDLE_UNSAFE_ENTRY', {
      path: full,
      entry: JSON.stringify(rel),
      rule: `its path ${why}`,
    });
  if (into.length >= MAX_FILES)
    throw bundleError('FERRY_BUNDLE_LIMIT', {
      path: root,
      what: 'the number of files',
      value: into.length + 1,
      limit: MAX_FILES,
      reason: 'MAX_FILES, CWE-770',
    });
  into.push({ path: rel, source: real, size: info.size, executable: (info.mode & 0o111) !== 0, role });
}

/** Files under a folder ferry filled itself (npm's node_modules): links there are refused outright. */
export async function collectInstalled(root: string, rel: string, into: PackFile[]): Promise<void> {
  const full = join(root, rel);
  const info = await lstat(full);
  if (info.isSymbolicLink())
    throw bundleError('FERRY_BUNDLE_NPM', {
      path: full,
      reason: 'npm installed a symbolic link; bundles hold only regular files',
    });
  if (info.isDirectory()) {
    for (const name of (await readdir(full)).sort()) await collectInstalled(root, `${rel}/${name}`, into);
    return;
  }
  await collectFiles(root, rel, 'dependency', into);
}
