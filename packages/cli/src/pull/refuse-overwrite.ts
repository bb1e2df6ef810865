import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkFilePath, registryError, type VersionFile } from '@ferry/registry-client';

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * `ferry pull` writes nothing over a file the user has: before any download, every file of the
 * version already in `dir` must have the version's content (kept, not rewritten). The first that
 * differs (or is a folder, a link) is refused with one line naming it; --force skips this check.
 */
export async function refuseOverwrites(dir: string, files: readonly VersionFile[]): Promise<void> {
  for (const file of files) {
    const target = join(dir, ...checkFilePath(file.path).split('/'));
    const info = await lstat(target).catch(() => undefined);
    if (!info) continue;
    const same = info.isFile() && info.size === file.size && (await sha256Of(target)) === file.sha256;
    if (!same)
      throw registryError('FERRY_REGISTRY_CONFLICT', {
        what: 'file',
        name: target,
        reason: `exists and differs from the version's ${file.path} (sha256 ${file.sha256.slice(0, 12)}...): nothing was written; pass --force to overwrite it`,
      });
  }
}
