import type { FileHandle } from 'node:fs/promises';
import { writeFileAtomic as formatsWriteFileAtomic } from '@ferry/formats';
import { bundleError } from './errors.js';

/** Writes a file whole or not at all (@ferry/formats' writeFileAtomic), failing with FERRY_BUNDLE_IO. */
export function writeFileAtomic(path: string, write: (file: FileHandle) => Promise<void>): Promise<void> {
  return formatsWriteFileAtomic(path, write, {
    ioError: (target, cause) =>
      bundleError('FERRY_BUNDLE_IO', { path: target, reason: `cannot write: ${cause.message}` }, cause),
  });
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
