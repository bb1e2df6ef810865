import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type FileHandle, open, rm } from 'node:fs/promises';
import type { ChunkCache } from './chunk-cache.js';
import type { TransferBytes } from './chunked-upload.js';
import type { RegistryClient } from './client.js';
import { RemoteRegistryError, registryError } from './errors.js';
import { ASIDE_MIN_BYTES, hashFileAside } from './file-hash-worker.js';
import { MAX_CHUNK_BYTES } from './limits.js';

/** A version file's chunks as the registry lists them. */
export interface RemoteManifest {
  readonly sha256: string;
  readonly size: number;
  /** True for a file stored whole (before chunking): no chunks to reuse, download it whole. */
  readonly whole?: boolean;
  readonly chunks: readonly { sha256: string; offset: number; size: number }[];
}

/** Tries of one byte range after a dropped connection, resuming at the chunk where it stopped. */
const MAX_TRIES = 5;
/** The whole-file hash is told of written bytes in steps of at least this much (fewer messages). */
const HASH_STEP_BYTES = 4 * 1024 * 1024;

type Chunk = RemoteManifest['chunks'][number];

/**
 * Downloads a version file into `partial` from chunks: cached ones are read from the cache (hashed
 * on read where the cached file changed since it entered: a chunk that no longer matches is
 * fetched instead; see chunk-cache.ts), runs of missing ones fetched as byte ranges of the file's
 * download route. Each byte is written once, in file order; a worker thread hashes the written
 * prefix on the other core as it grows, so the whole-file check costs no time on this thread.
 * Memory: a few chunks. Once the file matches its sha256 it enters the cache (a hard link, see
 * chunk-cache.ts). Answers undefined for a file stored whole (the caller downloads it the
 * ordinary way).
 */
export async function downloadChunked(
  client: RegistryClient,
  where: { model: string; version: number; path: string; force: boolean },
  file: { sha256: string; size: number },
  partial: string,
  cache: ChunkCache,
  onBytes: (bytes: TransferBytes) => void = () => {},
): Promise<TransferBytes | undefined> {
  const manifest = (await (
    await client.request(
      'GET',
      `/api/v1/models/${encodeURIComponent(where.model)}/versions/${where.version}/manifests/${where.path.split('/').map(encodeURIComponent).join('/')}`,
    )
  ).json()) as RemoteManifest;
  if (manifest.whole || manifest.sha256 !== file.sha256) return undefined;
  const stats: TransferBytes = { sent: 0, skipped: 0 };
  const cached = await cache.chunks();
  const sources = new Map<string, FileHandle>(); // cache files opened by this pull
  const used = new Set<string>(); // cache entries read from
  const stale = new Set<string>(); // cache entries whose bytes no longer match their chunks
  const unhashed = new Set<string>(); // entries used unhashed, as unchanged since they entered
  // Chunks this pull wrote already (a chunk that repeats in the file is copied from its first copy).
  const written = new Map<string, number>();
  const out = await open(partial, 'w+');
  const aside = file.size >= ASIDE_MIN_BYTES ? hashFileAside(partial) : undefined;
  const inline = aside ? undefined : createHash('sha256');
  // Writes go out in file order; `flushed` settles once every write so far has, and then tells the
  // hashing worker how far the file is final.
  let flushed: Promise<unknown> = Promise.resolve();
  let told = 0;
  const write = (pieces: Buffer[], offset: number, size: number): Promise<unknown> => {
    // Writes are issued in file order: a small file is hashed here, as they are.
    for (const piece of inline ? pieces : []) inline!.update(piece);
    const done = out.writev(pieces, offset);
    const end = offset + size;
    flushed = Promise.all([flushed, done]).then(() => {
      if (aside && end - told >= HASH_STEP_BYTES) aside.advance((told = end));
    });
    flushed.catch(() => {}); // awaited before the file is verified
    return done;
  };
  const available = (c: Chunk) => written.has(c.sha256) || cached.get(c.sha256)?.size === c.size;
  const buffer = Buffer.allocUnsafe(MAX_CHUNK_BYTES);
  /** A chunk's bytes from this pull's own output or the cache, verified; undefined: fetch it. */
  const readLocal = async (c: Chunk): Promise<Buffer | undefined> => {
    const bytes = buffer.subarray(0, c.size);
    const at = written.get(c.sha256);
    // Read back from this pull's file: verified by the whole-file hash like every fetched byte.
    if (at !== undefined) return (await readFully(out, bytes, at)) ? bytes : undefined;
    const hit = cached.get(c.sha256)!;
    let source = sources.get(hit.path);
    if (!source) {
      source = await open(hit.path, 'r').catch(() => undefined);
      if (!source) return undefined;
      sources.set(hit.path, source);
    }
    if ((await readFully(source, bytes, hit.offset)) && (hit.trusted || sha256(bytes) === c.sha256)) {
      used.add(hit.file);
      if (hit.trusted) unhashed.add(hit.file);
      return bytes;
    }
    // Changed under its name (the pulled copy it is linked to was written in place): this chunk
    // is fetched instead; the entry's other chunks are still used, each hashed on read too, and
    // the entry leaves the cache after the pull.
    cached.delete(c.sha256);
    stale.add(hit.file);
    return undefined;
  };
  let ok = false;
  try {
    const chunks = manifest.chunks;
    for (let i = 0; i < chunks.length; ) {
      const c = chunks[i]!;
      const bytes = available(c) ? await readLocal(c) : undefined;
      if (bytes) {
        await write([bytes], c.offset, c.size);
        if (!written.has(c.sha256)) written.set(c.sha256, c.offset);
        stats.skipped += c.size;
        onBytes(stats);
        i++;
        continue;
      }
      // A run of chunks not held locally: one range request.
      // A chunk that repeats ends the run: its second copy comes from the first.
      const inRun = new Set([c.sha256]);
      let j = i + 1;
      while (j < chunks.length && !inRun.has(chunks[j]!.sha256) && !available(chunks[j]!))
        inRun.add(chunks[j++]!.sha256);
      i = await fetchRun(client, where, file.sha256, chunks.slice(i, j), i, async (chunk, pieces) => {
        await write(pieces, chunk.offset, chunk.size);
        if (!written.has(chunk.sha256)) written.set(chunk.sha256, chunk.offset);
        stats.sent += chunk.size;
        onBytes(stats);
      });
    }
    await flushed;
    const actual = aside ? await aside.finish(manifest.size) : inline!.digest('hex');
    if (actual !== file.sha256) {
      // Only a cache entry used unhashed can have brought wrong bytes (fetched ones are the
      // registry's, checked by this same hash): they leave the cache, the caller downloads whole.
      for (const entry of unhashed) await cache.drop(entry).catch(() => undefined);
      throw registryError('FERRY_REGISTRY_DIGEST_MISMATCH', {
        path: where.path,
        actual,
        expected: file.sha256,
      });
    }
    ok = true;
  } finally {
    if (!ok) await aside?.cancel();
    await out.close();
    for (const source of sources.values()) await source.close().catch(() => undefined);
    if (!ok) await rm(partial, { force: true });
  }
  // The cache is an optimization: failing to update it fails no pull.
  for (const entry of stale) await cache.drop(entry).catch(() => undefined);
  for (const entry of used) await cache.touch(entry);
  await cache.addFile(file.sha256, partial, manifest.chunks).catch(() => undefined);
  return stats;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Fills `target` from `position` of a file; false when the file ends first. */
async function readFully(file: FileHandle, target: Buffer, position: number): Promise<boolean> {
  for (let done = 0; done < target.length; ) {
    const { bytesRead } = await file.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) return false;
    done += bytesRead;
  }
  return true;
}

/**
 * Fetches chunks `run` (consecutive in the file) with Range requests, handing each whole chunk to
 * `take`; after a dropped connection it asks again from the first chunk not yet taken. Answers
 * the index after the run.
 */
async function fetchRun(
  client: RegistryClient,
  where: { model: string; version: number; path: string; force: boolean },
  sha256: string,
  run: readonly { sha256: string; offset: number; size: number }[],
  first: number,
  take: (chunk: { sha256: string; offset: number; size: number }, pieces: Buffer[]) => Promise<void>,
): Promise<number> {
  let k = 0;
  // A chunk is handed on as the socket's own pieces (written with writev, never copied into a
  // chunk buffer); one chunk's write is in flight while the next one's pieces arrive.
  let pending: Promise<void> = Promise.resolve();
  for (let tries = 1; k < run.length; tries++) {
    const start = run[k]!.offset;
    const last = run[run.length - 1]!;
    let pieces: Buffer[] = [];
    let filled = 0;
    try {
      const response = await openRange(client, where, start, last.offset + last.size - 1, sha256);
      for await (const piece of response as AsyncIterable<Buffer>) {
        for (let at = 0; at < piece.length; ) {
          const chunk = run[k];
          if (!chunk) throw new Error('the registry sent more bytes than asked for');
          const n = Math.min(chunk.size - filled, piece.length - at);
          pieces.push(n === piece.length ? piece : piece.subarray(at, at + n));
          filled += n;
          at += n;
          if (filled === chunk.size) {
            await pending;
            pending = take(chunk, pieces);
            pending.catch(() => {}); // awaited before the next chunk is handed on
            pieces = [];
            filled = 0;
            k++;
          }
        }
      }
      await pending;
      if (k < run.length) throw new Error(`the download ended ${run.length - k} chunk(s) early`);
    } catch (error) {
      // A failed write is not a network error: no retry rewrites what is already taken.
      await pending;
      if (tries >= MAX_TRIES || error instanceof RemoteRegistryError) throw error;
      await new Promise((r) => setTimeout(r, 200 * 2 ** tries));
    }
  }
  return first + run.length;
}

/** Bytes `start..end` (inclusive) of a version file, as a streaming response (206, else an error). */
async function openRange(
  client: RegistryClient,
  where: { model: string; version: number; path: string; force: boolean },
  start: number,
  end: number,
  sha256: string,
): Promise<IncomingMessage> {
  const path = where.path.split('/').map(encodeURIComponent).join('/');
  const response = await client.openDownload(
    `/api/v1/models/${encodeURIComponent(where.model)}/versions/${where.version}/files/${path}${where.force ? '?force=true' : ''}`,
    { range: `bytes=${start}-${end}`, 'if-range': `"${sha256}"` },
  );
  if (response.statusCode !== 206) {
    response.destroy();
    throw registryError('FERRY_REGISTRY_HTTP', {
      method: 'GET',
      url: where.path,
      status: response.statusCode ?? 0,
      reason: 'the registry ignored the byte range',
    });
  }
  return response;
}
