import type { BlobStore } from './blob-store.js';
import type { ChunkStore } from './chunk-store.js';

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
  readonly bytes: number;
}

/** Default lease: an hour, far above a push's time between asking and committing. */
export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000;
const DEFAULT_BATCH = 1000;

/**
 * Frees what deleted versions left behind: manifests no version file names, then chunks no
 * manifest names, each only once idle for the grace period. A chunk is claimed under its row lock
 * ('deleting', after which nothing may use it), its blob deleted, then its row; a collector killed
 * in between leaves claimed rows that the next run finishes first. So a referenced chunk is never
 * deleted, and a crash never loses one.
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
  const remove = async (list: { sha256: string; size: number }[]) => {
    for (const c of list) {
      await blobs.delete(c.sha256);
      await chunks.forget(c.sha256);
      count++;
      bytes += c.size;
    }
  };
  for (let list = await chunks.claimed(batch); list.length > 0; list = await chunks.claimed(batch))
    await remove(list);
  for (
    let list = await chunks.claimUnreferenced(cutoff, batch);
    list.length > 0;
    list = await chunks.claimUnreferenced(cutoff, batch)
  )
    await remove(list);
  return { manifests, chunks: count, bytes };
}
