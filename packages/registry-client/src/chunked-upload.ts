import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import type { chunk as chunking } from '@ferry/formats';
import type { Progress, RegistryClient } from './client.js';
import type { LocalFile } from './local-files.js';
import { RemoteRegistryError } from './errors.js';
import { MAX_CHUNK_BYTES, MAX_CHUNKS_PER_REQUEST } from './limits.js';

/** A local file with its chunks, as the chunker cut it (tensor-aligned where ferry reads the format). */
export interface ChunkedLocalFile extends LocalFile {
  readonly chunks: readonly chunking.FileChunk[];
  /** Chunk bytes already sent while the file was hashed (chunk-local.ts). */
  readonly early?: number;
  /** The upload id of packs that carried every chunk of the file in file order (chunk-local.ts). */
  readonly upload?: string;
}

/** Bytes of one push or pull: sent (or fetched) over the network, and skipped because the other side had them. */
export interface TransferBytes {
  sent: number;
  skipped: number;
}

/** Bytes per chunk pack request: big enough to amortize a request, small enough to resend cheaply. */
const PACK_BYTES = 64 * 1024 * 1024;
/** Tries of one pack or manifest commit after a dropped connection or a chunk collected meanwhile. */
const MAX_TRIES = 5;

/**
 * A file whose chunks the registry lacks for at least this share of its bytes goes up whole, every
 * chunk in file order (ones it has and repeats included), under one upload id: the registry then
 * hashes the file as the packs arrive and keeps them as one pack that is the file, so the commit
 * reads nothing back and inspection links the pack instead of copying the file. The price is the
 * present bytes sent (and stored) again, at most 2% here, against a read-back of the whole file
 * (measured: a full fine-tune pushed 1.16-1.44x slower than whole-file for lack of it). Not 99%:
 * the full fine-tune of the bench (every weight trained) still shares 1.49% of its bytes with v1
 * (the header and one frozen 4 MiB tensor), and would miss the one-pack path.
 */
const MIN_MISSING_SHARE = 0.98;

/** Bytes of chunks the registry has (or repeats) a file may send in order: see MIN_MISSING_SHARE. */
export const inOrderBudget = (size: number) => Math.floor((1 - MIN_MISSING_SHARE) * size);

/** A random 128-bit upload id (x-ferry-upload): names the packs of one file before its sha256 is known. */
export const newUploadId = () => randomBytes(16).toString('hex');

/**
 * Uploads a file as chunks: asks which the registry lacks, sends only those (in packs, each chunk
 * verified there), then commits the manifest, which the registry verifies against the file's
 * sha256. A dropped connection resends only what the registry still lacks. Answers the bytes sent
 * and skipped; `onBytes` is told as packs go.
 */
export async function uploadChunked(
  client: RegistryClient,
  file: ChunkedLocalFile,
  onBytes: (bytes: TransferBytes) => void = () => {},
): Promise<TransferBytes> {
  const stats: TransferBytes = { sent: 0, skipped: 0 };
  let upload = file.upload;
  for (let tries = 1; ; tries++) {
    const missing = await lacking(
      client,
      file.chunks.map((c) => c.sha256),
    );
    let todo: chunking.FileChunk[] = [];
    const queued = new Set<string>();
    for (const c of file.chunks)
      if (missing.has(c.sha256) && !queued.has(c.sha256)) {
        queued.add(c.sha256);
        todo.push(c);
      }
    const lackingBytes = todo.reduce((n, c) => n + c.size, 0);
    // Nearly all of it missing (and nothing sent yet): every chunk goes, in file order.
    const inOrder =
      tries === 1 &&
      !file.early &&
      upload === undefined &&
      file.size - lackingBytes <= inOrderBudget(file.size);
    if (inOrder) {
      upload = newUploadId();
      todo = [...file.chunks];
    }
    if (tries === 1) {
      stats.sent = file.early ?? 0;
      stats.skipped = inOrder ? 0 : file.size - lackingBytes - stats.sent;
    }
    onBytes(stats);
    for (const pack of packsOf(todo)) {
      await sendPack(
        client,
        file.absolute,
        pack,
        inOrder ? { upload: upload!, offset: pack[0]!.offset } : undefined,
      );
      const bytes = pack.reduce((n, c) => n + c.size, 0);
      stats.sent += bytes;
      onBytes(stats);
    }
    try {
      await client.request('PUT', `/api/v1/files/sha256:${file.sha256}`, {
        json: {
          size: file.size,
          chunks: file.chunks.map((c) => c.sha256),
          sizes: file.chunks.map((c) => c.size),
        },
        // The packs that hashed the file as they came in (a header: older registries ignore it).
        ...(upload !== undefined && { headers: { 'x-ferry-upload': upload } }),
      });
      return stats;
    } catch (error) {
      // Chunks collected between asking and committing (their lease ran out): ask and send again.
      const retry =
        error instanceof RemoteRegistryError &&
        (error.code === 'FERRY_REGISTRY_CHUNKS_MISSING' || error.code === 'FERRY_REGISTRY_CHUNK_BUSY');
      if (!retry || tries >= MAX_TRIES) throw error;
    }
  }
}

/** True when the chunked path can carry this file (else it goes up whole and the registry chunks it). */
export function fitsChunked(file: ChunkedLocalFile): boolean {
  return file.chunks.length > 0 && file.chunks.length <= MAX_CHUNKS_PER_REQUEST;
}

/** Which of these chunks the registry lacks (asked in requests of at most MAX_CHUNKS_PER_REQUEST). */
export async function lacking(client: RegistryClient, shas: readonly string[]): Promise<Set<string>> {
  const unique = [...new Set(shas)];
  const missing = new Set<string>();
  for (let i = 0; i < unique.length; i += MAX_CHUNKS_PER_REQUEST) {
    const response = await client.request('POST', '/api/v1/chunks/missing', {
      json: { chunks: unique.slice(i, i + MAX_CHUNKS_PER_REQUEST) },
    });
    for (const sha of ((await response.json()) as { missing: string[] }).missing) missing.add(sha);
  }
  return missing;
}

/** Chunks cut into packs of at most PACK_BYTES (a chunk larger than that is a pack of its own). */
export function* packsOf(chunks: readonly chunking.FileChunk[]): Generator<chunking.FileChunk[]> {
  for (let i = 0; i < chunks.length; ) {
    let bytes = 0;
    const pack: chunking.FileChunk[] = [];
    while (i < chunks.length && (pack.length === 0 || bytes + chunks[i]!.size <= PACK_BYTES)) {
      bytes += chunks[i]!.size;
      pack.push(chunks[i++]!);
    }
    yield pack;
  }
}

/**
 * Sends one pack of chunks of the file at `path`, retrying after a network error or a chunk being
 * collected. `inOrder`: the pack is the file's bytes from `offset`, of the upload `upload` (the
 * registry then hashes the file as packs come in); said on the first try only, as a resent pack
 * breaks the order the registry saw (it then reads the chunks back at commit).
 */
export async function sendPack(
  client: RegistryClient,
  path: string,
  pack: readonly chunking.FileChunk[],
  inOrder?: { upload: string; offset: number },
): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      const length = pack.reduce((n, c) => n + 36 + c.size, 0);
      const headers: Record<string, string> = { 'content-length': String(length) };
      if (inOrder && tries === 1) {
        headers['x-ferry-upload'] = inOrder.upload;
        headers['x-ferry-file-offset'] = String(inOrder.offset);
      }
      await client.sendStream('POST', '/api/v1/chunks', headers, (request) => writePack(request, path, pack));
      return;
    } catch (error) {
      const busy = error instanceof RemoteRegistryError && error.code === 'FERRY_REGISTRY_CHUNK_BUSY';
      if (tries >= MAX_TRIES || (error instanceof RemoteRegistryError && !busy)) throw error;
      await new Promise((r) => setTimeout(r, 200 * 2 ** tries));
    }
  }
}

/**
 * Writes chunks as a pack body: per chunk a 36-byte header (sha256, uint32 BE size) and its bytes
 * read from the file. Two buffers alternate, a buffer is reused only once the socket took it.
 */
async function writePack(
  request: ClientRequest,
  path: string,
  pack: readonly chunking.FileChunk[],
): Promise<void> {
  const file = await open(path, 'r');
  try {
    const buffers = [
      Buffer.allocUnsafe(36 + MAX_CHUNK_BYTES),
      Buffer.allocUnsafe(36 + MAX_CHUNK_BYTES),
    ] as const;
    const sent: [Promise<void>, Promise<void>] = [Promise.resolve(), Promise.resolve()];
    let turn = 0;
    for (const c of pack) {
      await sent[turn];
      const buffer = buffers[turn]!;
      buffer.write(c.sha256, 0, 'hex');
      buffer.writeUInt32BE(c.size, 32);
      for (let done = 0; done < c.size; ) {
        const { bytesRead } = await file.read(buffer, 36 + done, c.size - done, c.offset + done);
        if (bytesRead === 0)
          throw new Error(`${path} ended at byte ${c.offset + done} (changed while pushing?)`);
        done += bytesRead;
      }
      const written = new Promise<void>((resolve, reject) =>
        request.write(buffer.subarray(0, 36 + c.size), (error) => (error ? reject(error) : resolve())),
      );
      written.catch(() => {});
      sent[turn] = written;
      turn ^= 1;
    }
    await Promise.all(sent);
  } finally {
    await file.close();
  }
}

/**
 * Uploads the files of a version the registry lacks (`missing`, by sha256): chunked where the
 * chunked path carries the file, whole otherwise. Progress counts bytes sent and skipped, files
 * the registry already holds included.
 */
export async function uploadMissing(
  client: RegistryClient,
  files: readonly ChunkedLocalFile[],
  missing: readonly string[],
  onProgress?: Progress,
): Promise<TransferBytes> {
  const todo = new Set(missing);
  const total = files.reduce((sum, f) => sum + f.size, 0);
  // Files the registry holds whole count as skipped, as do chunks it holds.
  const held = files.filter((f) => !todo.has(f.sha256));
  const bytes: TransferBytes = {
    sent: held.reduce((sum, f) => sum + (f.early ?? 0), 0),
    skipped: held.reduce((sum, f) => sum + f.size - (f.early ?? 0), 0),
  };
  for (const file of files) {
    if (!todo.has(file.sha256)) continue;
    todo.delete(file.sha256);
    const before = { ...bytes };
    const report = (b: TransferBytes) => {
      bytes.sent = before.sent + b.sent;
      bytes.skipped = before.skipped + b.skipped;
      onProgress?.(bytes.sent + bytes.skipped, total, file.path, { ...bytes });
    };
    if (fitsChunked(file)) await uploadChunked(client, file, report);
    else {
      await client.uploadFile(file, (n) => report({ sent: n, skipped: 0 }), 0, file.size);
      report({ sent: file.size, skipped: 0 });
    }
  }
  onProgress?.(total, total, '', { ...bytes });
  return bytes;
}
