import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
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
    await moveIntoPlace(temp, path);
  } catch (error) {
    await file?.close().catch(() => {});
    await rm(temp, { force: true });
    // ferry's own errors (any package's table) pass through unchanged
    if (isFerryError(error)) throw error;
    if (options.ioError) throw options.ioError(path, error as Error);
    throw ferryError('FERRY_WRITE', { path, reason: (error as Error).message }, error);
  }
}

/**
 * Puts a finished temp file at `path`: renamed over it, except where `path` is (or links to) a
 * character device or a FIFO (`-o /dev/null`, `-o /dev/stdout`, a named pipe), which gets the
 * bytes written into it and keeps being what it is: a rename would replace the device node itself
 * with a regular file (as root, /dev/null for every process on the machine). The temp file is
 * removed either way.
 */
export async function moveIntoPlace(temp: string, path: string): Promise<void> {
  const target = await stat(path).catch(() => undefined);
  if (target && (target.isCharacterDevice() || target.isFIFO())) {
    // Not fs.copyFile: libuv's copy truncates the target, which a device refuses, and then
    // unlinks the target on that error, removing the device node it was meant to spare.
    try {
      await pipeline(createReadStream(temp), createWriteStream(path, { flags: 'w' }));
    } finally {
      await rm(temp, { force: true });
    }
    return;
  }
  await rename(temp, path);
}

/** Writes every chunk at the file's current end, looping over short writes. */
export async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}
