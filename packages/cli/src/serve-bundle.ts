import { open } from 'node:fs/promises';
import { isOciReference } from '@ferry/registry-client';

/**
 * Whether `ferry serve` was given a bundle rather than a repository folder or a model file: an
 * oci:// reference, or a file that is a POSIX tar (ustar magic at byte 257, as ferry pack writes).
 */
export async function isBundleTarget(path: string): Promise<boolean> {
  if (isOciReference(path)) return true;
  if (path.endsWith('.ferry')) return true;
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return false;
  try {
    const header = Buffer.alloc(263);
    const { bytesRead } = await file.read(header, 0, 263, 0);
    return bytesRead === 263 && header.subarray(257, 262).toString('latin1') === 'ustar';
  } catch {
    return false; // a folder: read fails with EISDIR
  } finally {
    await file.close();
  }
}
