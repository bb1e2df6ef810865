import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { registryError } from '../errors.js';
import type { ByteRange } from './blob-store.js';
import { PACK_ID, type PackStore, type PackWriter } from './pack-store.js';

/** Read size for downloads: per-connection memory is about this times the socket backlog. */
const SERVE_CHUNK_BYTES = 256 * 1024;

/** Dead chunks smaller than this keep their bytes until the pack goes (a hole costs a process). */
const MIN_RELEASE_BYTES = 256 * 1024;

/** Packs as files of the folder store (`packs/ab/abcdef...`), appended in place. */
export class FolderPackStore implements PackStore {
  /** False once punching a hole failed (no fallocate(1), a file system without holes). */
  private canRelease = process.platform === 'linux';

  constructor(private readonly root: string) {}

  private path(id: string): string {
    if (!PACK_ID.test(id))
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: 'pack id',
        reason: '32 lowercase hex digits',
      });
    return join(this.root, id.slice(0, 2), id);
  }

  async open(id: string, at: number): Promise<PackWriter> {
    const path = this.path(id);
    if (at === 0) await mkdir(join(path, '..'), { recursive: true });
    const file = await open(path, at === 0 ? 'wx' : 'r+');
    try {
      // A request that died after writing and before recording its chunks leaves bytes past `at`
      // that no row points to: they are overwritten.
      if (at > 0) await file.truncate(at);
    } catch (error) {
      await file.close();
      throw error;
    }
    return new FolderPackWriter(file, at, at === 0 ? join(path, '..') : undefined);
  }

  async get(id: string, range: ByteRange): Promise<Readable> {
    const stream = createReadStream(this.path(id), {
      highWaterMark: SERVE_CHUNK_BYTES,
      start: range.start,
      end: range.end,
    });
    // Fail here (not mid-response) when the pack is gone.
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'pack', name: id })
            : error,
        ),
      );
    });
    return stream;
  }

  localPath(id: string): string {
    return this.path(id);
  }

  async delete(id: string): Promise<void> {
    await rm(this.path(id), { force: true });
  }

  /**
   * Punches a hole over each dead chunk (Linux fallocate PUNCH_HOLE, through util-linux's
   * fallocate(1): Node has no binding): the pack keeps its size and every live chunk its offset,
   * only the dead chunk's blocks go back to the file system.
   */
  async release(id: string, ranges: readonly { offset: number; size: number }[]): Promise<number> {
    let released = 0;
    for (const r of ranges) {
      if (!this.canRelease || r.size < MIN_RELEASE_BYTES) continue;
      const args = ['--punch-hole', '--offset', String(r.offset), '--length', String(r.size), this.path(id)];
      const ok = await new Promise<boolean>((resolve) =>
        execFile('fallocate', args, (error) => resolve(!error)),
      );
      if (ok) released += r.size;
      else this.canRelease = false;
    }
    return released;
  }
}

class FolderPackWriter implements PackWriter {
  constructor(
    private readonly file: FileHandle,
    public length: number,
    /** The folder to fsync once, so a new pack's name survives a power cut too. */
    private newIn: string | undefined,
  ) {}

  async append(bytes: Uint8Array): Promise<void> {
    // The place is taken now, so appends may overlap (each writes its own range).
    const at = this.length;
    this.length += bytes.length;
    for (let done = 0; done < bytes.length; ) {
      const { bytesWritten } = await this.file.write(bytes, done, bytes.length - done, at + done);
      done += bytesWritten;
    }
  }

  async sync(): Promise<void> {
    await this.file.datasync();
    if (this.newIn) {
      const dir = await open(this.newIn, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.newIn = undefined;
    }
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
