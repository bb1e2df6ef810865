import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { bundleError, isBundleError } from './errors.js';

/**
 * Writes a file whole or not at all (temp file beside it, fsync, rename), like @ferry/formats'
 * writeFileAtomic, but lets @ferry/bundle's own errors through unchanged.
 */
export async function writeFileAtomic(
  path: string,
  write: (file: FileHandle) => Promise<void>,
): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.ferry-tmp-${randomBytes(6).toString('hex')}`);
  let file: FileHandle | undefined;
  try {
    file = await open(temp, 'wx');
    await write(file);
    await file.sync();
    await file.close();
    file = undefined;
    await rename(temp, path);
  } catch (error) {
    await file?.close().catch(() => {});
    await rm(temp, { force: true });
    if (isBundleError(error) || (error as { code?: string }).code?.startsWith?.('FERRY_')) throw error;
    throw bundleError(
      'FERRY_BUNDLE_IO',
      { path, reason: `cannot write: ${(error as Error).message}` },
      error,
    );
  }
}

/** Reads exactly `length` bytes at `position` (looping over short reads) or fails with the offset. */
export async function readExactly(
  file: FileHandle,
  buffer: Uint8Array,
  position: number,
  length: number,
  path: string,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buffer, done, length - done, position + done);
    if (bytesRead === 0)
      throw bundleError('FERRY_BUNDLE_TAR', {
        path,
        what: 'data',
        offset: position + done,
        rule: 'the file ends early',
      });
    done += bytesRead;
  }
}
