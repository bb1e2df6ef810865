import type { BlobStore } from './blob-store.js';
import type { ChunkStore, ClaimedChunk } from './chunk-store.js';

export interface GcOptions {
  /**
   * How long a chunk or manifest nobody references is kept after it was last touched: the lease a
   * push in progress holds on what it uploaded or was told is present. Longer than any push takes
   * from "which chunks do you lack" to its manifest commit.
   */
  readonly graceMs?: number;
  /** Manifests and chunks handled per step (a run repeats steps until nothing is left). */
  readonly batch?: number;
}

export interface GcReport {
  readonly manifests: number;
  readonly chunks: number;
  /** Bytes of the chunks freed (a chunk in a pack frees its pack's space once the pack is empty). */
  readonly bytes: number;
  /** Pack files deleted: none of their chunks is used any more. */
  readonly packs: number;
  /** Bytes of dead chunks given back inside packs still in use (holes punched, folder store on Linux). */
  readonly released: number;
}

/** Default lease: an hour, far above a push's time between asking and committing. */
export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;
const DEFAULT_BATCH = 1000;

/**
 * Frees what deleted versions left behind: manifests no version file names, then chunks no
 * manifest names, each only once idle for the grace period. A chunk is claimed under its row lock
 * ('deleting', after which nothing may use it), its blob deleted, then its row; a collector killed
 * in between leaves claimed rows that the next run finishes first. So a referenced chunk is never
 * deleted, and a crash never loses one. A chunk in a pack loses its row, then its bytes (a hole
 * punched in the pack, where the file system can); a pack no chunk row and no manifest points
 * into, idle past the grace period, is claimed the same way and deleted.
 */
export async function collectGarbage(
  chunks: ChunkStore,
  blobs: BlobStore,
  options: GcOptions = {},
): Promise<GcReport> {
  const cutoff = new Date(Date.now() - (options.graceMs ?? DEFAULT_GC_GRACE_MS)).toISOString();
  const batch = options.batch ?? DEFAULT_BATCH;
  let manifests = 0;
  for (let n = -1; n !== 0; ) {
    n = await chunks.dropUnreferencedManifests(cutoff, batch);
    manifests += n;
  }
  let count = 0;
  let bytes = 0;
  let released = 0;
  const remove = async (list: ClaimedChunk[]) => {
    const dead = new Map<string, { offset: number; size: number }[]>();
    for (const c of list) {
      if (c.pack === undefined) await blobs.delete(c.sha256);
      await chunks.forget(c.sha256);
      // Only once its row is gone: nothing can be told to read the range afterwards.
      if (c.pack !== undefined)
        dead.set(c.pack, [...(dead.get(c.pack) ?? []), { offset: c.packOffset!, size: c.size }]);
      count++;
      bytes += c.size;
    }
    for (const [pack, ranges] of dead) released += (await blobs.packs?.release(pack, ranges)) ?? 0;
  };
  // what an earlier, killed run claimed first, then what is unreferenced now
  await eachClaim(() => chunks.claimed(batch), remove);
  await eachClaim(() => chunks.claimUnreferenced(cutoff, batch), remove);
  let packs = 0;
  const removePacks = async (ids: string[]) => {
    for (const id of ids) {
      await blobs.packs?.delete(id);
      await chunks.forgetPack(id);
      packs++;
    }
  };
  await eachClaim(() => chunks.claimedPacks(batch), removePacks);
  await eachClaim(() => chunks.claimIdlePacks(cutoff, batch), removePacks);
  return { manifests, chunks: count, bytes, packs, released };
}

/** Claims a batch and handles it, until a claim comes back empty. */
async function eachClaim<T>(claim: () => Promise<T[]>, handle: (batch: T[]) => Promise<void>): Promise<void> {
  for (let batch = await claim(); batch.length > 0; batch = await claim()) await handle(batch);
}
