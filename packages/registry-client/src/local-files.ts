import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ferryError, sha256File } from '@ferry/formats';
import { registryError } from './errors.js';
import { checkFilePath } from './names.js';

export interface LocalFile {
  readonly path: string;
  readonly absolute: string;
  readonly sha256: string;
  readonly size: number;
}

/** A file or every file under a folder, with '/'-separated relative paths, hashed. */
export async function scanLocal(path: string): Promise<LocalFile[]> {
  const files: LocalFile[] = [];
  for (const file of await listLocal(path)) files.push({ ...file, sha256: await sha256File(file.absolute) });
  return files;
}

/** A file or every file under a folder, with '/'-separated relative paths and sizes, sorted. */
export async function listLocal(path: string): Promise<Omit<LocalFile, 'sha256'>[]> {
  const info = await stat(path).catch(() => {
    // a local path: the formats' FERRY_NOT_FOUND, not the registry's (nothing was asked of it)
    throw ferryError('FERRY_NOT_FOUND', { path });
  });
  const absolutes: string[] = [];
  if (info.isDirectory()) {
    for (const entry of await readdir(path, { recursive: true, withFileTypes: true }))
      if (entry.isFile())
        absolutes.push(join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name));
  } else absolutes.push(path);
  absolutes.sort();
  const files: Omit<LocalFile, 'sha256'>[] = [];
  for (const absolute of absolutes) {
    const rel = info.isDirectory()
      ? relative(path, absolute).split(sep).join('/')
      : (absolute.split(sep).pop() ?? absolute);
    files.push({ path: checkFilePath(rel), absolute, size: (await stat(absolute)).size });
  }
  if (files.length === 0)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', { what: path, reason: 'holds no files' });
  return files;
}
