import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../store/blob-store.js';
import type { VersionFile } from '../store/types.js';

/** Where a version's files are read from and laid out: the process's scratch folder (context.ts). */
export interface VersionFilesPlace {
  readonly blobs: BlobStore;
  readonly scratch: string;
}

/**
 * Lays a version's files out in a temp folder under the process's scratch folder (links to local
 * blobs, copies of remote ones: multi-file formats need their neighbours), runs `use` on that
 * folder and removes it afterwards; a kill -9 leaves it to the next start's sweep.
 */
export async function withVersionFiles<T>(
  { blobs, scratch }: VersionFilesPlace,
  files: readonly VersionFile[],
  use: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(scratch, 'version-'));
  try {
    for (const file of files) {
      const target = join(dir, file.path);
      await mkdir(dirname(target), { recursive: true });
      const local = await blobs.localPath?.(file.sha256);
      if (local) await symlink(local, target);
      else await pipeline(await blobs.get(file.sha256), createWriteStream(target));
    }
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
