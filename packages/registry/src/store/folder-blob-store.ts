import { type Hash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { sha256File, writeStreamToFile } from '@ferry/formats';
import { registryError } from '../errors.js';
import { MAX_FILE_BYTES } from '../limits.js';
import {
  type BlobStore,
  type ByteRange,
  type ByteStream,
  checkDigest,
  checkSha256,
  HashingStream,
  type StoredBlob,
  type UploadState,
} from './blob-store.js';
import { FolderPackStore } from './folder-pack-store.js';

/** Upload hashes kept in memory at once (each is a few hundred bytes). */
const MAX_RUNNING_HASHES = 10_000;

/**
 * Blobs in a folder, named by sha256 (`blobs/sha256/ab/abcdef...`). Writes go to a temp file in
 * the same file system, are fsynced, verified and renamed into place: a crash leaves a stray temp
 * file, never a blob whose name lies about its content.
 */
export class FolderBlobStore implements BlobStore {
  readonly kind = 'folder';
  /**
   * Running sha256 of uploads whose chunks arrived in order at this process, so finishing one
   * does not read the whole file again; any gap (a restart, another server) falls back to reading.
   */
  private readonly running = new Map<string, { hash: Hash; bytes: number }>();

  /** Chunk packs (pack-store.ts) beside the blobs, in the same file system. */
  readonly packs: FolderPackStore;

  private constructor(private readonly root: string) {
    this.packs = new FolderPackStore(join(root, 'packs'));
  }

  static async open(folder: string): Promise<FolderBlobStore> {
    // Absolute from here on: the paths this store hands out (to scans, links, spools) must not
    // depend on the process's working directory.
    const root = resolve(folder);
    await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
    await mkdir(join(root, 'uploads'), { recursive: true });
    return new FolderBlobStore(root);
  }

  private blobPath(sha256: string): string {
    checkSha256(sha256);
    return join(this.root, 'blobs', 'sha256', sha256.slice(0, 2), sha256);
  }

  private uploadPath(id: string): string {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(id))
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: 'upload id',
        reason: 'letters, digits and "-" only',
      });
    return join(this.root, 'uploads', id);
  }

  async stat(sha256: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(sha256))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async put(data: ByteStream, expected: { sha256: string; size?: number }): Promise<StoredBlob> {
    const temp = this.uploadPath(`put-${randomUUID()}`);
    const hashing = new HashingStream(data, expected.size ?? MAX_FILE_BYTES);
    try {
      const file = await open(temp, 'wx');
      try {
        await writeStreamToFile(file, hashing);
        await file.sync();
      } finally {
        await file.close();
      }
      checkDigest(
        `blob sha256:${expected.sha256}`,
        { sha256: hashing.digest(), size: hashing.bytes },
        expected,
      );
      return await this.commit(temp, expected.sha256, hashing.bytes);
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Renames a verified temp file into place; if the blob is already there, keeps the old one. */
  private async commit(temp: string, sha256: string, size: number): Promise<StoredBlob> {
    const target = this.blobPath(sha256);
    if ((await this.stat(sha256)) !== undefined) {
      await unlink(temp);
      return { sha256, size, created: false };
    }
    await mkdir(join(target, '..'), { recursive: true });
    await rename(temp, target);
    await syncDir(join(target, '..'));
    return { sha256, size, created: true };
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable> {
    const size = await this.stat(sha256);
    if (size === undefined)
      throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'blob', name: `sha256:${sha256}` });
    return createReadStream(this.blobPath(sha256), {
      highWaterMark: SERVE_CHUNK_BYTES,
      ...(range && { start: range.start, end: range.end }),
    });
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.blobPath(sha256), { force: true });
  }

  async startUpload(id: string): Promise<UploadState> {
    const file = await open(this.uploadPath(id), 'wx');
    await file.close();
    return { id };
  }

  async appendUpload(
    state: UploadState,
    offset: number,
    data: ByteStream,
  ): Promise<{ state: UploadState; received: number }> {
    const path = this.uploadPath(String(state.id));
    const file = await open(path, 'r+').catch((error) => {
      if (error.code === 'ENOENT')
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'upload', name: String(state.id) });
      throw error;
    });
    try {
      const size = (await file.stat()).size;
      // A chunk that was written before a crash but never recorded: the client resends from the
      // recorded offset, and the stale tail is overwritten.
      if (offset > size)
        throw registryError('FERRY_REGISTRY_CONFLICT', {
          what: 'upload',
          name: String(state.id),
          reason: `offset ${offset} is past the ${size} bytes received`,
        });
      await file.truncate(offset);
      const id = String(state.id);
      const prior = this.running.get(id);
      this.running.delete(id);
      const resumed = offset === 0 ? undefined : prior?.bytes === offset ? prior.hash.copy() : null;
      const counting = new HashingStream(data, MAX_FILE_BYTES - offset, resumed ?? undefined);
      await writeStreamToFile(file, counting, offset);
      await file.sync();
      if (resumed !== null) {
        if (this.running.size >= MAX_RUNNING_HASHES) this.running.delete(this.running.keys().next().value!);
        this.running.set(id, { hash: counting.hash, bytes: offset + counting.bytes });
      }
      return { state, received: offset + counting.bytes };
    } finally {
      await file.close();
    }
  }

  async uploadStatus(
    state: UploadState,
    recorded: number,
  ): Promise<{ state: UploadState; received: number }> {
    const size = (await stat(this.uploadPath(String(state.id))).catch(() => undefined))?.size;
    if (size === undefined)
      throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'upload', name: String(state.id) });
    // Bytes past the recorded offset were never acknowledged: the next append overwrites them.
    return { state, received: Math.min(size, recorded) };
  }

  async finishUpload(state: UploadState, expected: { sha256: string; size?: number }): Promise<StoredBlob> {
    const path = this.uploadPath(String(state.id));
    const size = (await stat(path)).size;
    const running = this.running.get(String(state.id));
    this.running.delete(String(state.id));
    let actual: { sha256: string; size: number };
    if (running?.bytes === size) actual = { sha256: running.hash.digest('hex'), size };
    else actual = { sha256: await sha256File(path), size };
    checkDigest(`upload ${state.id}`, actual, expected);
    return this.commit(path, expected.sha256, actual.size);
  }

  async abortUpload(state: UploadState): Promise<void> {
    await rm(this.uploadPath(String(state.id)), { force: true });
  }

  async staleUploads(before: Date, limit: number): Promise<string[]> {
    const stale: string[] = [];
    for (const name of await readdir(join(this.root, 'uploads'))) {
      if (stale.length >= limit) break;
      if (!/^[A-Za-z0-9-]{1,64}$/.test(name)) continue;
      const info = await stat(join(this.root, 'uploads', name)).catch(() => undefined);
      if (info?.isFile() && info.mtime < before) stale.push(name);
    }
    return stale;
  }

  localPath(sha256: string): string {
    return this.blobPath(sha256);
  }

  async close(): Promise<void> {}
}

/** Read size for downloads: per-connection memory is about this times the socket backlog. */
const SERVE_CHUNK_BYTES = 256 * 1024;

/** fsync the folder so the rename itself survives a power cut (POSIX leaves it unspecified otherwise). */
async function syncDir(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
