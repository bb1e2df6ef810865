import { randomUUID } from 'node:crypto';
import { MAX_LINEAGE_DEPTH } from '../limits.js';
import { recordAudit } from './audit-store.js';
import type { MetadataStore, Queryable } from './metadata-store.js';
import { now, str } from './sql-values.js';
import type { Dataset, EdgeRelation, LineageEdge, LineageGraph, NodeId } from './types.js';

/**
 * The lineage graph and the datasets it names (`lineage_edges`, `datasets`). Nodes are ids, not
 * foreign keys (`dataset:ID`, `run:ID`, `models:/NAME/VERSION`): the facade keeps them in step
 * when a model is renamed or a version deleted, in that change's own transaction.
 */
export class LineageStore {
  constructor(private readonly store: MetadataStore) {}

  async getDataset(id: string): Promise<Dataset | undefined> {
    const d = (await this.store.query('SELECT * FROM datasets WHERE id = ?', [id]))[0];
    return d
      ? {
          id,
          name: String(d.name),
          digest: String(d.digest),
          source: str(d.source),
          createdAt: String(d.created_at),
        }
      : undefined;
  }

  async addEdge(actor: string, src: NodeId, dst: NodeId, relation: EdgeRelation): Promise<void> {
    await this.store.transaction(async (tx) => {
      await this.linkIn(tx, src, dst, relation);
      await recordAudit(tx, actor, 'lineage.add', dst, null, { src, dst, relation });
    });
  }

  /** Upstream (what a node came from) and downstream (what came from it), breadth-first, bounded. */
  async graph(
    root: NodeId,
    depth = MAX_LINEAGE_DEPTH,
  ): Promise<{ upstream: LineageGraph; downstream: LineageGraph }> {
    const walk = async (column: 'src' | 'dst'): Promise<LineageGraph> => {
      const other = column === 'dst' ? 'src' : 'dst';
      const seen = new Set<NodeId>([root]);
      const edges: LineageEdge[] = [];
      let frontier = [root];
      for (let level = 0; level < Math.min(depth, MAX_LINEAGE_DEPTH) && frontier.length > 0; level++) {
        const next: NodeId[] = [];
        for (const node of frontier) {
          const rows = await this.store.query(
            `SELECT src, dst, relation FROM lineage_edges WHERE ${column} = ? ORDER BY ${other}`,
            [node],
          );
          for (const r of rows) {
            edges.push({ src: String(r.src), dst: String(r.dst), relation: r.relation as EdgeRelation });
            const reached = String(r[other]);
            if (!seen.has(reached)) {
              seen.add(reached);
              next.push(reached);
            }
          }
        }
        frontier = next;
      }
      return { root, nodes: [...seen], edges };
    };
    return { upstream: await walk('dst'), downstream: await walk('src') };
  }

  // --- steps of the facade's transactions that span table groups (registry-db.ts) ---

  /** Adds an edge inside `tx` unless it is there already. */
  async linkIn(tx: Queryable, src: NodeId, dst: NodeId, relation: EdgeRelation): Promise<void> {
    const exists = await tx.query(
      'SELECT 1 AS x FROM lineage_edges WHERE src = ? AND dst = ? AND relation = ?',
      [src, dst, relation],
    );
    if (!exists[0])
      await tx.query('INSERT INTO lineage_edges (src, dst, relation, created_at) VALUES (?, ?, ?, ?)', [
        src,
        dst,
        relation,
        now(),
      ]);
  }

  /** Removes every edge into or out of `node` inside `tx`. */
  async unlinkIn(tx: Queryable, node: NodeId): Promise<void> {
    await tx.query('DELETE FROM lineage_edges WHERE src = ? OR dst = ?', [node, node]);
  }

  /** Moves every node id starting with `oldPrefix` to `newPrefix` inside `tx` (a model rename). */
  async renamePrefixIn(tx: Queryable, oldPrefix: string, newPrefix: string): Promise<void> {
    for (const column of ['src', 'dst'])
      await tx.query(
        `UPDATE lineage_edges SET ${column} = CAST(? AS TEXT) || SUBSTR(${column}, ?) WHERE SUBSTR(${column}, 1, ?) = ?`,
        [newPrefix, oldPrefix.length + 1, oldPrefix.length, oldPrefix],
      );
  }

  /** The dataset with this name and digest inside `tx`, created when new; returns its id. */
  async upsertDatasetIn(
    tx: Queryable,
    d: { name: string; digest: string; source?: string },
  ): Promise<string> {
    const existing = (
      await tx.query('SELECT id FROM datasets WHERE name = ? AND digest = ?', [d.name, d.digest])
    )[0];
    if (existing) return String(existing.id);
    const id = randomUUID().replace(/-/g, '');
    await tx.query('INSERT INTO datasets (id, name, digest, source, created_at) VALUES (?, ?, ?, ?, ?)', [
      id,
      d.name,
      d.digest,
      d.source ?? null,
      now(),
    ]);
    return id;
  }
}
