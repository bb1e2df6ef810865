import { registryError } from '../errors.js';
import type { MetadataStore, Queryable } from './metadata-store.js';
import { now } from './sql-values.js';

/** A chunk of a file as its manifest lists it. */
export interface ManifestChunk {
  readonly sha256: string;
  readonly offset: number;
  readonly size: number;
}

export interface FileManifest {
  readonly sha256: string;
  readonly size: number;
  readonly chunks: readonly ManifestChunk[];
}

/** Where a stored chunk's bytes are: in a pack at `packOffset`, or (no pack) its own blob. */
export interface StoredChunk extends ManifestChunk {
  readonly pack?: string;
  readonly packOffset?: number;
}

/** A manifest as the reader needs it: each chunk's place, and the pack that is the whole file. */
export interface StoredManifest extends FileManifest {
  readonly chunks: readonly StoredChunk[];
  /** A pack whose bytes from 0 are exactly the file (pushed in one go, in file order). */
  readonly pack?: string;
}

/** A chunk just written into a pack. */
export interface PackedChunk {
  readonly sha256: string;
  readonly size: number;
  readonly packOffset: number;
}

/** A chunk the collector claimed: its blob, or its place in a pack (nothing to delete alone). */
export interface ClaimedChunk {
  readonly sha256: string;
  readonly size: number;
  readonly pack?: string;
  readonly packOffset?: number;
}

/** Parameters per statement: SQLite's default limit is 32,766, PostgreSQL's 65,535. */
const BATCH = 500;

function batches<T>(items: readonly T[], size = BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const marks = (n: number) => new Array(n).fill('?').join(', ');

/**
 * Chunks and file manifests (`chunks`, `file_manifests`, `manifest_chunks`, issue #20). A chunk
 * row exists only once its blob is stored and verified; its `touched_at` is a lease that keeps
 * the collector off it while a push that was told "present" (or just uploaded it) commits its
 * manifest. Chunk rows are locked (FOR UPDATE) in sha256 order by every writer, so a manifest
 * commit and the collector's claim of the same chunk run one after the other, never interleaved.
 */
export class ChunkStore {
  constructor(private readonly store: MetadataStore) {}

  /**
   * Which of these chunks are stored; the present ones are touched (leased) for the caller's
   * commit. Rows are locked in sha256 order, as every writer here does, so concurrent pushes
   * never deadlock on PostgreSQL.
   */
  async present(shas: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const at = now();
    for (const batch of batches([...new Set(shas)].sort()))
      await this.store.transaction(async (tx) => {
        const rows = await tx.query(
          `SELECT sha256 FROM chunks WHERE state = 'live' AND sha256 IN (${marks(batch.length)}) ORDER BY sha256 FOR UPDATE`,
          batch,
        );
        const live = rows.map((r) => String(r.sha256));
        for (const sha of live) found.add(sha);
        if (live.length > 0)
          await tx.query(`UPDATE chunks SET touched_at = ? WHERE sha256 IN (${marks(live.length)})`, [
            at,
            ...live,
          ]);
      });
    return found;
  }

  /** Before storing a chunk's blob: refuses one being collected, leases one already stored. */
  async beginUpload(sha256: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.lockedRow(tx, sha256);
      if (row?.state === 'deleting') throw registryError('FERRY_REGISTRY_CHUNK_BUSY', { chunk: sha256 });
      if (row) await tx.query('UPDATE chunks SET touched_at = ? WHERE sha256 = ?', [now(), sha256]);
    });
  }

  /** After a chunk's blob is stored and verified: the row that makes it count as present. */
  async recordStored(sha256: string, size: number): Promise<void> {
    await this.store.transaction(async (tx) => {
      const row = await this.lockedRow(tx, sha256);
      if (row?.state === 'deleting') throw registryError('FERRY_REGISTRY_CHUNK_BUSY', { chunk: sha256 });
      if (row) await tx.query('UPDATE chunks SET touched_at = ? WHERE sha256 = ?', [now(), sha256]);
      else
        await tx.query("INSERT INTO chunks (sha256, size, state, touched_at) VALUES (?, ?, 'live', ?)", [
          sha256,
          size,
          now(),
        ]);
    });
  }

  private async lockedRow(tx: Queryable, sha256: string) {
    const r = (await tx.query('SELECT state FROM chunks WHERE sha256 = ? FOR UPDATE', [sha256]))[0];
    return r && { state: String(r.state) };
  }

  /** True when this sha256 names a chunk row (any state): such a blob is not a whole file of its own. */
  async isChunk(sha256: string): Promise<boolean> {
    return (await this.store.query('SELECT 1 AS x FROM chunks WHERE sha256 = ?', [sha256])).length > 0;
  }

  /** Whether a chunk is stored and usable (live), without touching it. */
  async isLive(sha256: string): Promise<boolean> {
    return (
      (await this.store.query("SELECT 1 AS x FROM chunks WHERE sha256 = ? AND state = 'live'", [sha256]))
        .length > 0
    );
  }

  /** A file's size if it has a manifest, and the pack that is the whole file (null: none). */
  async wholePack(sha256: string): Promise<{ size: number; pack: string | null } | undefined> {
    const r = (await this.store.query('SELECT size, pack FROM file_manifests WHERE sha256 = ?', [sha256]))[0];
    return r && { size: Number(r.size), pack: r.pack == null ? null : String(r.pack) };
  }

  async manifestSize(sha256: string): Promise<number | undefined> {
    const r = (await this.store.query('SELECT size FROM file_manifests WHERE sha256 = ?', [sha256]))[0];
    return r ? Number(r.size) : undefined;
  }

  /** A file's manifest with where each chunk is stored (a chunk being collected has no place). */
  async manifest(sha256: string): Promise<StoredManifest | undefined> {
    const file = (
      await this.store.query('SELECT size, pack FROM file_manifests WHERE sha256 = ?', [sha256])
    )[0];
    if (!file) return undefined;
    const rows = await this.store.query(
      'SELECT m.chunk_sha256, m.start_at, m.size, c.pack, c.pack_offset FROM manifest_chunks m LEFT JOIN chunks c ON c.sha256 = m.chunk_sha256 WHERE m.file_sha256 = ? ORDER BY m.seq',
      [sha256],
    );
    return {
      sha256,
      size: Number(file.size),
      ...(file.pack != null && { pack: String(file.pack) }),
      chunks: rows.map((r) => ({
        sha256: String(r.chunk_sha256),
        offset: Number(r.start_at),
        size: Number(r.size),
        ...(r.pack != null && { pack: String(r.pack), packOffset: Number(r.pack_offset) }),
      })),
    };
  }

  /** Where each of these chunks is stored now (one without a row has no place: read as a blob). */
  async locate(chunks: readonly ManifestChunk[]): Promise<StoredChunk[]> {
    const places = new Map<string, { pack: string; packOffset: number }>();
    for (const batch of batches([...new Set(chunks.map((c) => c.sha256))])) {
      const rows = await this.store.query(
        `SELECT sha256, pack, pack_offset FROM chunks WHERE pack IS NOT NULL AND sha256 IN (${marks(batch.length)})`,
        batch,
      );
      for (const r of rows)
        places.set(String(r.sha256), { pack: String(r.pack), packOffset: Number(r.pack_offset) });
    }
    return chunks.map((c) => ({ ...c, ...places.get(c.sha256) }));
  }

  // --- packs (pack-store.ts): a row before the file, chunk rows only once the file is synced ---

  /** Names a new pack, leased, before its file is written (a crash leaves a row the collector finds). */
  async beginPack(id: string): Promise<void> {
    await this.store.query("INSERT INTO chunk_packs (id, state, touched_at) VALUES (?, 'live', ?)", [
      id,
      now(),
    ]);
  }

  /** Leases a pack again to append to it; false when it is gone or being collected. */
  async continuePack(id: string): Promise<boolean> {
    return this.store.transaction(async (tx) => {
      const row = (await tx.query('SELECT state FROM chunk_packs WHERE id = ? FOR UPDATE', [id]))[0];
      if (row?.state !== 'live') return false;
      await tx.query('UPDATE chunk_packs SET touched_at = ? WHERE id = ?', [now(), id]);
      return true;
    });
  }

  /**
   * After a pack's bytes are synced: the rows that make its chunks present, in one transaction.
   * A chunk already stored elsewhere keeps its place (and is leased); one being collected, or a
   * pack being collected, refuses the whole request (CHUNK_BUSY: the client sends it again).
   * Answers how many chunks were new.
   */
  async recordPacked(pack: string, chunks: readonly PackedChunk[]): Promise<number> {
    const first = new Map<string, PackedChunk>();
    for (const c of chunks) if (!first.has(c.sha256)) first.set(c.sha256, c);
    return this.store.transaction(async (tx) => {
      const row = (await tx.query('SELECT state FROM chunk_packs WHERE id = ? FOR UPDATE', [pack]))[0];
      if (row?.state !== 'live') throw registryError('FERRY_REGISTRY_CHUNK_BUSY', { chunk: `pack ${pack}` });
      const at = now();
      await tx.query('UPDATE chunk_packs SET touched_at = ? WHERE id = ?', [at, pack]);
      const unique = [...first.keys()].sort();
      const existing = new Set<string>();
      for (const batch of batches(unique)) {
        const rows = await tx.query(
          `SELECT sha256, state FROM chunks WHERE sha256 IN (${marks(batch.length)}) ORDER BY sha256 FOR UPDATE`,
          batch,
        );
        for (const r of rows) {
          if (r.state !== 'live')
            throw registryError('FERRY_REGISTRY_CHUNK_BUSY', { chunk: String(r.sha256) });
          existing.add(String(r.sha256));
        }
        const old = batch.filter((s) => existing.has(s));
        if (old.length > 0)
          await tx.query(`UPDATE chunks SET touched_at = ? WHERE sha256 IN (${marks(old.length)})`, [
            at,
            ...old,
          ]);
      }
      const fresh = unique.filter((s) => !existing.has(s)).map((s) => first.get(s)!);
      for (const batch of batches(fresh, 100))
        await tx.query(
          `INSERT INTO chunks (sha256, size, state, touched_at, pack, pack_offset) VALUES ${batch.map(() => "(?, ?, 'live', ?, ?, ?)").join(', ')}`,
          batch.flatMap((c) => [c.sha256, c.size, at, pack, c.packOffset]),
        );
      return fresh.length;
    });
  }

  /**
   * Records a verified manifest in one transaction: every chunk must be live (locked, then
   * touched), else nothing is written and FERRY_REGISTRY_CHUNKS_MISSING names them. Answers false
   * when the file already had a manifest.
   */
  async commitManifest(manifest: FileManifest, pack?: string): Promise<boolean> {
    return this.store.transaction(async (tx) => {
      if (
        (await tx.query('SELECT 1 AS x FROM file_manifests WHERE sha256 = ?', [manifest.sha256])).length > 0
      )
        return false;
      // The pack that is the whole file counts only while it is live (locked first, as every
      // writer locks a pack before its chunks, so it is not claimed meanwhile).
      let whole: string | null = null;
      if (pack !== undefined) {
        const row = (await tx.query('SELECT state FROM chunk_packs WHERE id = ? FOR UPDATE', [pack]))[0];
        if (row?.state === 'live') whole = pack;
      }
      const unique = [...new Set(manifest.chunks.map((c) => c.sha256))].sort();
      const live = new Set<string>();
      for (const batch of batches(unique)) {
        const rows = await tx.query(
          `SELECT sha256, state FROM chunks WHERE sha256 IN (${marks(batch.length)}) ORDER BY sha256 FOR UPDATE`,
          batch,
        );
        for (const r of rows) if (r.state === 'live') live.add(String(r.sha256));
      }
      const missing = unique.filter((s) => !live.has(s));
      if (missing.length > 0)
        throw registryError('FERRY_REGISTRY_CHUNKS_MISSING', {
          file: manifest.sha256,
          count: missing.length,
          chunks: missing.slice(0, 3).join(', ') + (missing.length > 3 ? ', ...' : ''),
        });
      const at = now();
      for (const batch of batches(unique))
        await tx.query(`UPDATE chunks SET touched_at = ? WHERE sha256 IN (${marks(batch.length)})`, [
          at,
          ...batch,
        ]);
      await tx.query(
        'INSERT INTO file_manifests (sha256, size, chunk_count, created_at, pack) VALUES (?, ?, ?, ?, ?)',
        [manifest.sha256, manifest.size, manifest.chunks.length, at, whole],
      );
      const rows = manifest.chunks.map(
        (c, seq) => [manifest.sha256, seq, c.sha256, c.offset, c.size] as const,
      );
      for (const batch of batches(rows, 100))
        await tx.query(
          `INSERT INTO manifest_chunks (file_sha256, seq, chunk_sha256, start_at, size) VALUES ${batch.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
          batch.flat(),
        );
      return true;
    });
  }

  // --- the collector's side (chunk-gc.ts) ---

  /**
   * Removes manifests no version file references and created before `cutoff`, at most `limit`.
   * A version that names the file in between is either seen by the DELETE (and the manifest
   * stays) or sees the manifest gone when it checks what is missing (and the client uploads it).
   */
  async dropUnreferencedManifests(cutoff: string, limit: number): Promise<number> {
    const rows = await this.store.query(
      'SELECT sha256 FROM file_manifests f WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM version_files v WHERE v.sha256 = f.sha256) LIMIT ?',
      [cutoff, limit],
    );
    let dropped = 0;
    for (const r of rows) {
      const deleted = await this.store.query(
        'DELETE FROM file_manifests WHERE sha256 = ? AND created_at < ? AND NOT EXISTS (SELECT 1 FROM version_files v WHERE v.sha256 = file_manifests.sha256) RETURNING sha256',
        [String(r.sha256), cutoff],
      );
      dropped += deleted.length;
    }
    return dropped;
  }

  /**
   * Claims unreferenced chunks whose lease ran out before `cutoff`: each is re-checked under its
   * row lock and marked 'deleting', after which no upload or manifest may use it.
   */
  async claimUnreferenced(cutoff: string, limit: number): Promise<ClaimedChunk[]> {
    const candidates = await this.store.query(
      "SELECT sha256 FROM chunks c WHERE state = 'live' AND touched_at < ? AND NOT EXISTS (SELECT 1 FROM manifest_chunks m WHERE m.chunk_sha256 = c.sha256) LIMIT ?",
      [cutoff, limit],
    );
    const claimed: ClaimedChunk[] = [];
    for (const c of candidates) {
      const sha256 = String(c.sha256);
      const chunk = await this.store.transaction(async (tx) => {
        const r = (
          await tx.query(
            'SELECT state, touched_at, size, pack, pack_offset FROM chunks WHERE sha256 = ? FOR UPDATE',
            [sha256],
          )
        )[0];
        if (r?.state !== 'live' || String(r.touched_at) >= cutoff) return undefined;
        const used = await tx.query('SELECT 1 AS x FROM manifest_chunks WHERE chunk_sha256 = ? LIMIT 1', [
          sha256,
        ]);
        if (used.length > 0) return undefined;
        await tx.query("UPDATE chunks SET state = 'deleting' WHERE sha256 = ?", [sha256]);
        return claimedChunk(r, sha256);
      });
      if (chunk) claimed.push(chunk);
    }
    return claimed;
  }

  /** Chunks claimed by a collector that stopped before finishing (kill -9): the next run finishes them. */
  async claimed(limit: number): Promise<ClaimedChunk[]> {
    const rows = await this.store.query(
      "SELECT sha256, size, pack, pack_offset FROM chunks WHERE state = 'deleting' LIMIT ?",
      [limit],
    );
    return rows.map((r) => claimedChunk(r, String(r.sha256)));
  }

  /** Forgets a claimed chunk once its blob is deleted. */
  async forget(sha256: string): Promise<void> {
    await this.store.query("DELETE FROM chunks WHERE sha256 = ? AND state = 'deleting'", [sha256]);
  }

  /**
   * Claims packs no chunk row and no manifest points into, idle past `cutoff` (a pack being written
   * is leased; a crash before its chunks were recorded leaves such a pack): marked 'deleting' under
   * the row lock every pack writer takes first, so none is appended to or named afterwards.
   */
  async claimIdlePacks(cutoff: string, limit: number): Promise<string[]> {
    const idle =
      'NOT EXISTS (SELECT 1 FROM chunks c WHERE c.pack = p.id) AND NOT EXISTS (SELECT 1 FROM file_manifests f WHERE f.pack = p.id)';
    const candidates = await this.store.query(
      `SELECT id FROM chunk_packs p WHERE state = 'live' AND touched_at < ? AND ${idle} LIMIT ?`,
      [cutoff, limit],
    );
    const claimed: string[] = [];
    for (const c of candidates) {
      const id = String(c.id);
      const ok = await this.store.transaction(async (tx) => {
        const r = (
          await tx.query('SELECT state, touched_at FROM chunk_packs WHERE id = ? FOR UPDATE', [id])
        )[0];
        if (r?.state !== 'live' || String(r.touched_at) >= cutoff) return false;
        if (
          (await tx.query(`SELECT 1 AS x FROM chunk_packs p WHERE p.id = ? AND ${idle}`, [id])).length === 0
        )
          return false;
        await tx.query("UPDATE chunk_packs SET state = 'deleting' WHERE id = ?", [id]);
        return true;
      });
      if (ok) claimed.push(id);
    }
    return claimed;
  }

  /** Packs claimed by a collector that stopped before deleting them (kill -9). */
  async claimedPacks(limit: number): Promise<string[]> {
    const rows = await this.store.query("SELECT id FROM chunk_packs WHERE state = 'deleting' LIMIT ?", [
      limit,
    ]);
    return rows.map((r) => String(r.id));
  }

  /** Forgets a claimed pack once its file is deleted. */
  async forgetPack(id: string): Promise<void> {
    await this.store.query("DELETE FROM chunk_packs WHERE id = ? AND state = 'deleting'", [id]);
  }
}

function claimedChunk(r: Record<string, unknown>, sha256: string): ClaimedChunk {
  return {
    sha256,
    size: Number(r.size),
    ...(r.pack != null && { pack: String(r.pack), packOffset: Number(r.pack_offset) }),
  };
}
