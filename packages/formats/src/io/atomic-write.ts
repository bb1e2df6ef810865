import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ferryError, isFerryError } from '../errors.js';

/**
 * Writes a file so that it appears whole or not at all: the content goes to a hidden temp file
 * beside the target (same filesystem, so rename is atomic), is fsynced, then renamed over it.
 * If `write` throws or the process dies, the target is untouched and the temp file is removed
 * (or, after a crash, left as `.NAME.ferry-tmp-*`, never as NAME).
 */
export async function writeFileAtomic(
  path: string,
  write: (file: FileHandle) => Promise<void>,
  options: {
    /** Turns an I/O failure into the caller's own error (another package's table); FERRY_WRITE by default. */
    readonly ioError?: (path: string, cause: Error) => Error;
  } = {},
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
    // ferry's own errors (any package's table) pass through unchanged
    if (isFerryError(error)) throw error;
    if (options.ioError) throw options.ioError(path, error as Error);
    throw ferryError('FERRY_WRITE', { path, reason: (error as Error).message }, error);
  }
}

/** Writes every chunk at the file's current end, looping over short writes. */
export async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}
