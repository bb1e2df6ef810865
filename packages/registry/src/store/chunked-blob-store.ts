import { createHash, randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { chunk as chunking, writeStreamToFile } from '@ferry/formats';
import { isRegistryError, registryError } from '../errors.js';
import { MAX_CHUNK_BYTES, MAX_FILE_BYTES } from '../limits.js';
import {
  type BlobStore,
  type ByteRange,
  type ByteStream,
  checkDigest,
  HashingStream,
  type StoredBlob,
  type UploadState,
} from './blob-store.js';
import { type IncomingChunk, type IngestResult, ingestAsBlobs, ingestIntoPack } from './chunk-ingest.js';
import type { ChunkStore, ManifestChunk, StoredManifest } from './chunk-store.js';
import { FileHashes, RunningFile } from './file-hashes.js';
import { manifestSegments } from './manifest-segments.js';

/**
 * Files as manifests of content-addressed chunks (issue #20), over any BlobStore: chunks are
 * stored back to back in packs where the store has them (the folder store; pack-store.ts), else
 * each chunk is a blob (an OCI registry); manifests are rows in the metadata store. To every route it is a BlobStore: `stat`/`get` of a file's
 * sha256 answer from its manifest (streaming its chunks, with ranges), and a whole-file `put` or
 * resumable upload is chunked here, so every way in (native push, Hub, MLflow) stores chunks.
 * Files stored whole before chunking existed stay readable as they are.
 */
export class ChunkedBlobStore implements BlobStore {
  readonly kind: string;
  /** Whole-file hashes of chunks received in file order (saves the commit's read-back). */
  readonly hashes = new FileHashes();

  constructor(
    readonly raw: BlobStore,
    readonly chunks: ChunkStore,
    /** Where a whole-file upload waits while it is chunked (not kept). */
    private readonly spool = tmpdir(),
  ) {
    this.kind = raw.kind;
  }

  async stat(sha256: string): Promise<number | undefined> {
    const size = await this.chunks.manifestSize(sha256);
    if (size !== undefined) return size;
    // A chunk's blob is not a file until a manifest says so (it may be claimed by the collector).
    if (await this.chunks.isChunk(sha256)) return undefined;
    return this.raw.stat(sha256);
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable> {
    // A file that is one pack: the pack's own file stream, no manifest rows read.
    const whole = await this.chunks.wholePack(sha256);
    if (whole?.pack && this.raw.packs && whole.size > 0)
      return this.raw.packs.get(whole.pack, range ?? { start: 0, end: whole.size - 1 });
    const manifest = whole && (await this.chunks.manifest(sha256));
    if (!manifest) {
      if (await this.chunks.isChunk(sha256))
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'blob', name: `sha256:${sha256}` });
      return this.raw.get(sha256, range);
    }
    return Readable.from(this.stream(manifest, range ?? { start: 0, end: manifest.size - 1 }));
  }

  /**
   * The bytes of `range` (inclusive) of a file: one read of the pack that is the file, else one
   * read per run of chunks that lie back to back in one pack (or per chunk stored as its own blob).
   */
  private async *stream(manifest: StoredManifest, range: ByteRange): AsyncGenerator<Uint8Array> {
    const packs = this.raw.packs;
    for (const s of manifestSegments(manifest, range)) {
      if (s.pack !== undefined && packs) yield* await packs.get(s.pack, s.range);
      else if (s.pack !== undefined)
        throw registryError('FERRY_REGISTRY_BACKEND', {
          backend: this.raw.kind,
          reason: `chunks of sha256:${manifest.sha256} are in a pack, and this store keeps none`,
        });
      else yield* await this.raw.get(s.sha256, s.whole ? undefined : s.range);
    }
  }

  /**
   * Stores the chunks of one upload request (a pack), each verified against its sha256, durable
   * before this resolves. `file`: the file they are, in order from `offset` (optional headers of
   * the request), keyed by the file's sha256 (`sha256:HEX`) or, when the client sends before it
   * knows that, by its upload id (`upload:ID`), so the commit can skip the read-back and keep the
   * file as one pack.
   */
  async storeChunks(
    incoming: AsyncIterable<IncomingChunk>,
    file?: { key: string; offset: number },
  ): Promise<IngestResult> {
    const running = file && this.hashes.begin(file.key, file.offset);
    const packs = this.raw.packs;
    const result = packs
      ? await ingestIntoPack(packs, this.chunks, incoming, running)
      : await ingestAsBlobs((sha, bytes) => this.storeChunk(sha, bytes), incoming, running);
    // Only a request that stored everything lets the next one continue the file.
    if (file && running) this.hashes.end(file.key, running);
    return result;
  }

  /** A local file holding the blob: a file's own pack, or a whole blob of the raw store. */
  async localPath(sha256: string): Promise<string | undefined> {
    const manifest = await this.chunks.wholePack(sha256);
    if (manifest) return manifest.pack !== null ? this.raw.packs?.localPath(manifest.pack) : undefined;
    if (await this.chunks.isChunk(sha256)) return undefined;
    return this.raw.localPath?.(sha256);
  }

  /** A whole file arrives: spooled and verified, then stored as chunks and a manifest. */
  async put(data: ByteStream, expected: { sha256: string; size?: number }): Promise<StoredBlob> {
    const temp = join(this.spool, `ferry-spool-${randomUUID()}`);
    try {
      const hashing = new HashingStream(data, expected.size ?? MAX_FILE_BYTES);
      const file = await open(temp, 'wx');
      try {
        await writeStreamToFile(file, hashing);
      } finally {
        await file.close();
      }
      checkDigest(
        `blob sha256:${expected.sha256}`,
        { sha256: hashing.digest(), size: hashing.bytes },
        expected,
      );
      return await this.storeVerifiedFile(temp, expected.sha256);
    } finally {
      await rm(temp, { force: true });
    }
  }

  /**
   * Chunks a local file whose sha256 is already verified and stores what is new. Its tensors (if
   * ferry reads its format) give the chunk boundaries, as on the client.
   */
  async storeVerifiedFile(path: string, sha256: string): Promise<StoredBlob> {
    const existing = await this.chunks.manifestSize(sha256);
    if (existing !== undefined) return { sha256, size: existing, created: false };
    const spans = await chunking.spansOf(path);
    const list: ManifestChunk[] = [];
    const whole = createHash('sha256');
    const listed = async function* () {
      for await (const c of chunking.chunkStream(path, spans, whole)) {
        list.push({ sha256: c.sha256, offset: c.offset, size: c.size });
        // The chunker reuses its buffer; the chunk is written while the next one is read.
        yield { sha256: c.sha256, bytes: Buffer.from(c.bytes), verified: true };
      }
    };
    // All of it in order from byte 0: in a store with packs, one pack that is the file.
    const running = new RunningFile();
    const packs = this.raw.packs;
    if (packs) await ingestIntoPack(packs, this.chunks, listed(), running);
    else await ingestAsBlobs((sha, bytes) => this.storeChunk(sha, bytes), listed(), running);
    const size = list.reduce((n, c) => n + c.size, 0);
    checkDigest(path, { sha256: whole.digest('hex'), size }, { sha256 });
    const created = await this.chunks.commitManifest({ sha256, size, chunks: list }, running.pack);
    return { sha256, size, created };
  }

  /**
   * Stores one chunk (its bytes are verified by the blob store against `sha256`). A chunk already
   * stored is only leased again; one the collector is removing is refused (CHUNK_BUSY).
   */
  async storeChunk(sha256: string, bytes: Uint8Array): Promise<boolean> {
    if (bytes.length > MAX_CHUNK_BYTES)
      throw registryError('FERRY_REGISTRY_TOO_LARGE', {
        what: 'chunk',
        value: bytes.length,
        limit: MAX_CHUNK_BYTES,
      });
    await this.chunks.beginUpload(sha256);
    if (await this.chunks.isLive(sha256)) return false;
    await this.raw.put(once(bytes), { sha256, size: bytes.length });
    await this.chunks.recordStored(sha256, bytes.length);
    return true;
  }

  /**
   * Commits a client's manifest for a file: the chunk sizes must add up, and the chunks must hash
   * to the file's sha256 (so nobody can name a file with other content): hashed as their packs
   * came in, when exactly these chunks came in this order under the file's sha256 or `upload`
   * (the upload id its packs carried), else read back in order.
   */
  async commitFile(
    sha256: string,
    size: number,
    sizes: readonly { sha256: string; size: number }[],
    upload?: string,
  ): Promise<boolean> {
    if ((await this.chunks.manifestSize(sha256)) !== undefined) return false;
    let offset = 0;
    const list: ManifestChunk[] = [];
    for (const c of sizes) {
      if (c.size > MAX_CHUNK_BYTES || c.size <= 0)
        throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
          what: `manifest of sha256:${sha256}`,
          reason: `chunk sizes must be 1..${MAX_CHUNK_BYTES} bytes (MAX_CHUNK_BYTES)`,
        });
      list.push({ sha256: c.sha256, offset, size: c.size });
      offset += c.size;
    }
    if (offset !== size)
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: `manifest of sha256:${sha256}`,
        reason: `chunks add up to ${offset} bytes, the file has ${size}`,
      });
    const manifest = { sha256, size, chunks: list };
    const missing: string[] = [];
    for (const c of new Set(list.map((c) => c.sha256))) if (!(await this.chunks.isLive(c))) missing.push(c);
    if (missing.length > 0)
      throw registryError('FERRY_REGISTRY_CHUNKS_MISSING', {
        file: sha256,
        count: missing.length,
        chunks: missing.slice(0, 3).join(', ') + (missing.length > 3 ? ', ...' : ''),
      });
    const running = this.hashes.take(
      upload !== undefined ? `upload:${upload}` : `sha256:${sha256}`,
      list.map((c) => c.sha256),
    );
    // The packs of this upload were other bytes than the file named: refused (nothing is linked).
    if (running && upload !== undefined && running.sha256 !== sha256)
      throw registryError('FERRY_REGISTRY_DIGEST_MISMATCH', {
        path: `file sha256:${sha256} (chunks of upload ${upload})`,
        actual: running.sha256,
        expected: sha256,
      });
    let actual = running?.sha256;
    if (actual === undefined) {
      const hash = createHash('sha256');
      try {
        const located = (await this.chunks.locate(list)) satisfies StoredManifest['chunks'];
        for await (const bytes of this.stream({ ...manifest, chunks: located }, { start: 0, end: size - 1 }))
          hash.update(bytes);
      } catch (error) {
        // A chunk collected between the check above and the read: the client uploads it again.
        if (isRegistryError(error) && error.code === 'FERRY_REGISTRY_NOT_FOUND')
          throw registryError('FERRY_REGISTRY_CHUNKS_MISSING', {
            file: sha256,
            count: 1,
            chunks: error.message,
          });
        throw error;
      }
      actual = hash.digest('hex');
    }
    checkDigest(`file sha256:${sha256}`, { sha256: actual, size }, { sha256, size });
    return this.chunks.commitManifest(manifest, running?.pack);
  }

  delete(sha256: string): Promise<void> {
    // Files go away through the collector (chunk-gc.ts), never one by one: chunks are shared.
    return this.raw.delete(sha256);
  }

  startUpload(id: string): Promise<UploadState> {
    return this.raw.startUpload(id);
  }

  appendUpload(state: UploadState, offset: number, data: ByteStream) {
    return this.raw.appendUpload(state, offset, data);
  }

  uploadStatus(state: UploadState, recorded: number) {
    return this.raw.uploadStatus(state, recorded);
  }

  /** A finished resumable upload is verified as a whole blob by the store, then chunked. */
  async finishUpload(state: UploadState, expected: { sha256: string; size?: number }): Promise<StoredBlob> {
    const whole = await this.raw.finishUpload(state, expected);
    const local = await this.raw.localPath?.(expected.sha256);
    let stored: StoredBlob;
    if (local) stored = await this.storeVerifiedFile(local, expected.sha256);
    else {
      const temp = join(this.spool, `ferry-spool-${randomUUID()}`);
      try {
        const file = await open(temp, 'wx');
        try {
          await writeStreamToFile(file, await this.raw.get(expected.sha256));
        } finally {
          await file.close();
        }
        stored = await this.storeVerifiedFile(temp, expected.sha256);
      } finally {
        await rm(temp, { force: true });
      }
    }
    // The whole blob is now chunks; keep it only when it is itself a chunk (a one-chunk file).
    if (!(await this.chunks.isChunk(expected.sha256))) await this.raw.delete(expected.sha256);
    return { ...stored, created: stored.created || whole.created };
  }

  abortUpload(state: UploadState): Promise<void> {
    return this.raw.abortUpload(state);
  }

  staleUploads(before: Date, limit: number): Promise<string[]> {
    return this.raw.staleUploads?.(before, limit) ?? Promise.resolve([]);
  }

  close(): Promise<void> {
    return this.raw.close();
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
