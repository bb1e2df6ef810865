import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { open, readFile, rm } from 'node:fs/promises';
import type { ChunkCache } from './chunk-cache.js';
import type { TransferBytes } from './chunked-upload.js';
import type { RegistryClient } from './client.js';
import { RemoteRegistryError, registryError } from './errors.js';
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

/**
 * Downloads a version file into `partial` from chunks: cached ones are copied from the cache,
 * runs of missing ones fetched as byte ranges of the file's download route. The file is written
 * in order and hashed as it goes; memory is one chunk. Only when the whole file matches its
 * sha256 do the fetched chunks enter the cache. Answers undefined for a file stored whole (the
 * caller downloads it the ordinary way).
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
  // Chunks fetched by this pull, being written to the cache under temp names (set synchronously,
  // so a chunk that repeats is staged once).
  const staged = new Map<
    string,
    Promise<{ path: string; commit(): Promise<void>; discard(): Promise<void> }>
  >();
  const whole = createHash('sha256');
  const out = await open(partial, 'w');
  let ok = false;
  try {
    const chunks = manifest.chunks;
    const local = async (sha256: string, size: number) =>
      (await staged.get(sha256))?.path ??
      ((await cache.size(sha256)) === size ? cache.path(sha256) : undefined);
    for (let i = 0; i < chunks.length; ) {
      const c = chunks[i]!;
      const from = await local(c.sha256, c.size);
      if (from) {
        const bytes = await readFile(from);
        await out.write(bytes, 0, bytes.length, c.offset);
        whole.update(bytes);
        if (!staged.has(c.sha256)) await cache.touch(c.sha256);
        stats.skipped += c.size;
        onBytes(stats);
        i++;
        continue;
      }
      // A run of chunks not held locally: one range request.
      // A chunk that repeats ends the run: its second copy comes from the first.
      const inRun = new Set([c.sha256]);
      let j = i + 1;
      while (
        j < chunks.length &&
        !inRun.has(chunks[j]!.sha256) &&
        !(await local(chunks[j]!.sha256, chunks[j]!.size))
      )
        inRun.add(chunks[j++]!.sha256);
      i = await fetchRun(client, where, file.sha256, chunks.slice(i, j), i, async (chunk, bytes) => {
        // Synchronous part first, in file order: the hash, and the cache entry's claim.
        whole.update(bytes);
        const writes: Promise<unknown>[] = [out.write(bytes, 0, bytes.length, chunk.offset)];
        if (!staged.has(chunk.sha256)) {
          const entry = cache.stage(chunk.sha256, bytes);
          staged.set(chunk.sha256, entry);
          writes.push(entry);
        }
        await Promise.all(writes);
        stats.sent += bytes.length;
        onBytes(stats);
      });
    }
    const actual = whole.digest('hex');
    if (actual !== file.sha256)
      throw registryError('FERRY_REGISTRY_DIGEST_MISMATCH', {
        path: where.path,
        actual,
        expected: file.sha256,
      });
    ok = true;
  } finally {
    await out.close();
    for (const pending of staged.values()) {
      const entry = await pending.catch(() => undefined);
      await (ok ? entry?.commit() : entry?.discard())?.catch(() => undefined);
    }
    if (!ok) await rm(partial, { force: true });
  }
  return stats;
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
  take: (chunk: { sha256: string; offset: number; size: number }, bytes: Buffer) => Promise<void>,
): Promise<number> {
  let k = 0;
  // Two buffers: one fills from the network while the other's chunk is written (file and cache).
  const buffers = [Buffer.allocUnsafe(MAX_CHUNK_BYTES), Buffer.allocUnsafe(MAX_CHUNK_BYTES)] as const;
  const pending: [Promise<void>, Promise<void>] = [Promise.resolve(), Promise.resolve()];
  let turn = 0;
  for (let tries = 1; k < run.length; tries++) {
    const start = run[k]!.offset;
    const last = run[run.length - 1]!;
    let filled = 0;
    let buffer = buffers[turn]!;
    try {
      const response = await openRange(client, where, start, last.offset + last.size - 1, sha256);
      for await (const piece of response as AsyncIterable<Buffer>) {
        for (let at = 0; at < piece.length; ) {
          const chunk = run[k];
          if (!chunk) throw new Error('the registry sent more bytes than asked for');
          const n = Math.min(chunk.size - filled, piece.length - at);
          piece.copy(buffer, filled, at, at + n);
          filled += n;
          at += n;
          if (filled === chunk.size) {
            const written = take(chunk, buffer.subarray(0, filled));
            written.catch(() => {}); // awaited below, before its buffer is reused
            pending[turn] = written;
            turn ^= 1;
            await pending[turn];
            buffer = buffers[turn]!;
            filled = 0;
            k++;
          }
        }
      }
      await Promise.all(pending);
      if (k < run.length) throw new Error(`the download ended ${run.length - k} chunk(s) early`);
    } catch (error) {
      // A failed write is not a network error: no retry rewrites what is already taken.
      await Promise.all(pending);
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
