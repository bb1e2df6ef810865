import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { registryError } from '../errors.js';
import type { PackStore } from './pack-store.js';

/** Bytes as they arrive: a request body, a file stream. */
export type ByteStream = AsyncIterable<Uint8Array>;

/** Inclusive byte range, as in HTTP's Range header. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface StoredBlob {
  readonly sha256: string;
  readonly size: number;
  /** False when the store already held the blob (deduplicated). */
  readonly created: boolean;
}

/** A resumable upload's state: plain JSON, kept in the metadata store so any server can resume it. */
export type UploadState = Record<string, string | number>;

/**
 * Content-addressed blob storage: a blob's name is its sha256, so a blob is stored once however
 * many versions and models use it. A second backend is a new file (folder-blob-store.ts,
 * oci-blob-store.ts), not an `if`.
 */
export interface BlobStore {
  readonly kind: string;
  /** Size of a stored blob, or undefined when absent. */
  stat(sha256: string): Promise<number | undefined>;
  /** Stores a whole stream, verifying its sha256 (and size when given) before it becomes visible. */
  put(data: ByteStream, expected: { sha256: string; size?: number }): Promise<StoredBlob>;
  /** Streams a blob, or an inclusive byte range of it. */
  get(sha256: string, range?: ByteRange): Promise<Readable>;
  delete(sha256: string): Promise<void>;
  /** Starts a resumable upload. */
  startUpload(id: string): Promise<UploadState>;
  /** Appends bytes at `offset` (which must equal the bytes received so far). */
  appendUpload(
    state: UploadState,
    offset: number,
    data: ByteStream,
  ): Promise<{ state: UploadState; received: number }>;
  /**
   * Where an upload really stands, given the bytes the metadata store recorded. A crash in the
   * middle of a chunk can leave a store with more (folder: a stale tail, cut at the next append)
   * or with a session it can no longer resume (OCI: distribution signs the offset into the
   * upload's state), in which case the upload restarts at 0 under a new state.
   */
  uploadStatus(state: UploadState, recorded: number): Promise<{ state: UploadState; received: number }>;
  /** Verifies the whole upload against `sha256` and makes it a blob. */
  finishUpload(state: UploadState, expected: { sha256: string; size?: number }): Promise<StoredBlob>;
  abortUpload(state: UploadState): Promise<void>;
  /**
   * Upload ids whose partial bytes were last written before `before`, for stores that keep them
   * locally (a process killed mid-upload leaves them with or without a session row). A store whose
   * uploads live elsewhere (OCI: the registry purges its own) has none.
   */
  staleUploads?(before: Date, limit: number): Promise<string[]>;
  /** A local file holding the blob, when the store has one (lets inspection avoid a copy). */
  localPath?(sha256: string): string | undefined | Promise<string | undefined>;
  /** Where chunks go back to back, in stores with cheap appendable files (pack-store.ts). */
  readonly packs?: PackStore;
  close(): Promise<void>;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function checkSha256(value: string, what = 'sha256'): string {
  if (!SHA256_HEX.test(value))
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what,
      reason: `${JSON.stringify(value.slice(0, 80))} is not 64 lowercase hex digits`,
    });
  return value;
}

/** Passes bytes through while hashing and counting them. */
export class HashingStream implements AsyncIterable<Uint8Array> {
  bytes = 0;
  private hex: string | undefined;

  /** `hash` continues a hash over earlier bytes (a resumed upload's previous chunks). */
  constructor(
    private readonly source: ByteStream,
    private readonly limit = Number.POSITIVE_INFINITY,
    readonly hash: Hash = createHash('sha256'),
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for await (const chunk of this.source) {
      this.bytes += chunk.length;
      if (this.bytes > this.limit)
        throw registryError('FERRY_REGISTRY_TOO_LARGE', {
          what: 'upload',
          value: this.bytes,
          limit: this.limit,
        });
      this.hash.update(chunk);
      yield chunk;
    }
  }

  digest(): string {
    this.hex ??= this.hash.digest('hex');
    return this.hex;
  }
}

export function checkDigest(
  path: string,
  actual: { sha256: string; size: number },
  expected: { sha256: string; size?: number },
): void {
  if (actual.sha256 !== expected.sha256)
    throw registryError('FERRY_REGISTRY_DIGEST_MISMATCH', {
      path,
      actual: actual.sha256,
      expected: expected.sha256,
    });
  if (expected.size !== undefined && actual.size !== expected.size)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: path,
      reason: `received ${actual.size} bytes, expected ${expected.size}`,
    });
}
