import type { MetadataStore } from './metadata-store.js';

/** Which stored bytes of one version other versions also use (issue #20, visibility). */
export interface VersionSharing {
  /** Bytes of the version's distinct chunks (what storing it alone would take). */
  readonly bytes: number;
  /** Of those, bytes in chunks some other version (of any model) also uses. */
  readonly sharedWithAny: number;
  /** Of those, bytes in chunks `parent` also uses (0 without a parent). */
  readonly sharedWithParent: number;
}

/** A version's distinct chunks, by model id and version number. */
const CHUNKS_OF = `SELECT DISTINCT mc.chunk_sha256, mc.size FROM version_files f
  JOIN manifest_chunks mc ON mc.file_sha256 = f.sha256 WHERE f.model_id = ? AND f.version = ?`;

/**
 * Bytes a version shares with its parent and with any other version, counted over distinct
 * chunks. Files stored whole (before chunking) have no chunks and count as not shared.
 */
export async function versionSharing(
  store: MetadataStore,
  version: { modelId: string; version: number },
  parent?: { modelId: string; version: number },
): Promise<VersionSharing> {
  const own = [version.modelId, version.version];
  const [total, any, withParent] = await Promise.all([
    store.query(`SELECT COALESCE(SUM(c.size), 0) AS n FROM (${CHUNKS_OF}) c`, own),
    store.query(
      `SELECT COALESCE(SUM(c.size), 0) AS n FROM (${CHUNKS_OF}) c WHERE EXISTS (
        SELECT 1 FROM manifest_chunks m2 JOIN version_files f2 ON f2.sha256 = m2.file_sha256
        WHERE m2.chunk_sha256 = c.chunk_sha256 AND NOT (f2.model_id = ? AND f2.version = ?))`,
      [...own, ...own],
    ),
    parent
      ? store.query(
          `SELECT COALESCE(SUM(c.size), 0) AS n FROM (${CHUNKS_OF}) c WHERE EXISTS (
            SELECT 1 FROM manifest_chunks m2 JOIN version_files f2 ON f2.sha256 = m2.file_sha256
            WHERE m2.chunk_sha256 = c.chunk_sha256 AND f2.model_id = ? AND f2.version = ?)`,
          [...own, parent.modelId, parent.version],
        )
      : Promise.resolve([{ n: 0 }]),
  ]);
  return {
    bytes: Number(total[0]!.n),
    sharedWithAny: Number(any[0]!.n),
    sharedWithParent: Number(withParent[0]!.n),
  };
}
