import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from './harness.helper.js';

/**
 * The pack files of a backend's folder store (absolute paths), to tell which a push added; none
 * for an OCI store (its chunks are blobs) or a folder store with no pack yet.
 */
export async function packFiles(backend: Backend): Promise<string[]> {
  if (backend.serveArgs.blobs !== undefined) return [];
  const dir = join(backend.serveArgs.data, 'blobs', 'packs');
  return (await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}
