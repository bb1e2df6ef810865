import { createHash, randomBytes } from 'node:crypto';
import { registryError } from '../errors.js';
import { MAX_FILE_BYTES } from '../limits.js';
import { checkDigest } from './blob-store.js';
import type { ChunkStore, PackedChunk } from './chunk-store.js';
import type { RunningFile } from './file-hashes.js';
import type { PackStore } from './pack-store.js';

/** A chunk as a pack request (or the server's own chunker) hands it over. */
export interface IncomingChunk {
  readonly sha256: string;
  /** Its own buffer: it is written after the next chunk arrives. */
  readonly bytes: Uint8Array;
  /** True when the server computed `sha256` from these bytes itself (its own chunker). */
  readonly verified?: boolean;
}

export interface IngestResult {
  /** Chunks in the request. */
  readonly received: number;
  /** Chunks the registry did not hold before. */
  readonly stored: number;
  /** The pack written, when the store keeps packs. */
  readonly pack?: string;
}

/** Chunk writes in flight at once while the next chunk arrives and is hashed. */
const WRITES_IN_FLIGHT = 2;
/**
 * A request's chunks become durable and present in steps of this many bytes or chunks (one
 * fdatasync and one transaction each): a push cut off mid-request keeps what was recorded and
 * resends only the rest, at 1/8 of the fsyncs of one per 4 MiB chunk.
 */
const RECORD_BYTES = 32 * 1024 * 1024;
const RECORD_CHUNKS = 64;

/**
 * Stores a request's chunks back to back in one pack, each verified against its sha256: the pack
 * row is written (leased) first, then the bytes, one fdatasync per step (RECORD_BYTES), and only
 * then that step's chunk rows in one transaction, so a chunk is never present before its bytes
 * are durable and a crash leaves at most unnamed bytes in a pack for the collector. `running` is the file these chunks are,
 * in order: when its bytes so far fill one pack from 0, this request appends to that pack, so a
 * file pushed in one go ends up as one pack that is the file.
 */
export async function ingestIntoPack(
  packs: PackStore,
  chunks: ChunkStore,
  incoming: AsyncIterable<IncomingChunk>,
  running: RunningFile | undefined,
): Promise<IngestResult> {
  let id: string;
  let at = 0;
  if (running?.pack !== undefined && running.bytes > 0 && (await chunks.continuePack(running.pack))) {
    id = running.pack;
    at = running.bytes;
  } else {
    id = randomBytes(16).toString('hex');
    await chunks.beginPack(id);
    if (running) running.pack = running.bytes === 0 ? id : undefined;
  }
  // Every byte of the file goes into the pack that is the file; elsewhere a repeat is written once.
  const whole = running !== undefined && running.pack === id;
  const writer = await packs.open(id, at);
  const placed: PackedChunk[] = [];
  const seen = new Set<string>();
  const writes = new Set<Promise<void>>();
  let received = 0;
  let bytes = 0;
  let stored = 0;
  let step = 0;
  const record = async () => {
    await Promise.all(writes);
    await writer.sync();
    stored += await chunks.recordPacked(id, placed.splice(0));
    step = 0;
  };
  try {
    for await (const chunk of incoming) {
      received++;
      bytes = withinPackLimit(bytes + chunk.bytes.length);
      if (!chunk.verified) {
        const actual = createHash('sha256').update(chunk.bytes).digest('hex');
        checkDigest(`chunk sha256:${chunk.sha256}`, { sha256: actual, size: chunk.bytes.length }, chunk);
      }
      running?.add(chunk.sha256, chunk.bytes);
      if (!whole && seen.has(chunk.sha256)) continue;
      seen.add(chunk.sha256);
      placed.push({ sha256: chunk.sha256, size: chunk.bytes.length, packOffset: writer.length });
      const write: Promise<void> = writer.append(chunk.bytes).finally(() => writes.delete(write));
      write.catch(() => {}); // reported by the race or the Promise.all below
      writes.add(write);
      if (writes.size >= WRITES_IN_FLIGHT) await Promise.race(writes);
      step += chunk.bytes.length;
      if (step >= RECORD_BYTES || placed.length >= RECORD_CHUNKS) await record();
    }
    if (placed.length > 0 || received === 0) await record();
  } finally {
    await Promise.allSettled(writes);
    await writer.close();
  }
  return { received, stored, pack: id };
}

/** Chunk stores at once while a pack streams in: overlaps the blob store's writes. */
const STORE_CONCURRENCY = 4;

/**
 * For stores without packs (OCI): each chunk its own blob, verified by the blob store, its row
 * recorded once it is stored.
 */
export async function ingestAsBlobs(
  storeChunk: (sha256: string, bytes: Uint8Array) => Promise<boolean>,
  incoming: AsyncIterable<IncomingChunk>,
  running: RunningFile | undefined,
): Promise<IngestResult> {
  let stored = 0;
  let received = 0;
  let bytes = 0;
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  for await (const chunk of incoming) {
    if (failure) break;
    received++;
    bytes = withinPackLimit(bytes + chunk.bytes.length);
    running?.add(chunk.sha256, chunk.bytes);
    const task: Promise<void> = storeChunk(chunk.sha256, chunk.bytes)
      .then((created) => {
        if (created) stored++;
      })
      .catch((error) => {
        failure ??= error;
      })
      .finally(() => inflight.delete(task));
    inflight.add(task);
    if (inflight.size >= STORE_CONCURRENCY) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  if (failure) throw failure;
  return { received, stored };
}

/** The bytes a pack request has brought so far, refused past MAX_FILE_BYTES (both kinds of store). */
function withinPackLimit(bytes: number): number {
  if (bytes > MAX_FILE_BYTES)
    throw registryError('FERRY_REGISTRY_TOO_LARGE', {
      what: 'chunk pack',
      value: bytes,
      limit: MAX_FILE_BYTES,
    });
  return bytes;
}
