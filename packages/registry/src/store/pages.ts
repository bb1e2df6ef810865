import type { Queryable, Row, SqlValue } from './metadata-store.js';
import { parse, str } from './sql-values.js';
import type { Model, ModelVersion, ScanVerdict, Visibility } from './types.js';

/**
 * Turning a page of model or version rows into records: the page query runs once, then one
 * UNION ALL fetches every child row (files, tags, aliases) of the whole page by key. Reusing the
 * page query as a subquery instead re-ran it (sort included) once per relation, which cost more
 * than the rows; one query per page keeps a round trip to PostgreSQL per page, not per version.
 */

/** Keys per children query: at most 6 parameters each, far below SQLite's (32,766) and PostgreSQL's (65,535) limits. */
const KEYS_PER_QUERY = 500;

interface VersionChildren {
  files: Row[];
  tags: Row[];
  aliases: Row[];
}

/**
 * The versions a page query selects (`v.*, m.full_name` rows, in order) with their files (by
 * path), tags (by key) and aliases (by name).
 */
export async function versionsPage(
  db: Queryable,
  pageSql: string,
  params: readonly SqlValue[],
): Promise<ModelVersion[]> {
  const rows = await db.query(pageSql, params);
  const keyOf = (r: Row) => `${r.model_id}\0${r.version}`;
  const grouped = new Map<string, VersionChildren>();
  for (const r of rows) grouped.set(keyOf(r), { files: [], tags: [], aliases: [] });
  for (let start = 0; start < rows.length; start += KEYS_PER_QUERY) {
    const chunk = rows.slice(start, start + KEYS_PER_QUERY);
    // Keys grouped by model: `model_id = ? AND version IN (...)` is a primary-key range on both
    // databases. A row-value IN over a VALUES list made PostgreSQL hash-join a scan of each whole
    // table (100 ms with 10,000 versions); as a JOIN, SQLite scanned version_tags by (key, value).
    const byModel = new Map<string, number[]>();
    for (const r of chunk) {
      const versions = byModel.get(String(r.model_id)) ?? [];
      byModel.set(String(r.model_id), versions);
      versions.push(Number(r.version));
    }
    const groups = [...byModel].map(
      ([, versions]) => `(t.model_id = ? AND t.version IN (${versions.map(() => '?').join(', ')}))`,
    );
    const where = `WHERE ${groups.join(' OR ')}`;
    const values = [...byModel].flatMap(([model, versions]) => [model, ...versions]);
    const children = await db.query(
      `SELECT 'f' AS kind, t.model_id, t.version, t.path AS a, t.sha256 AS b, t.size AS n, t.format AS c FROM version_files t ${where}
       UNION ALL SELECT 't', t.model_id, t.version, t.key, t.value, NULL, NULL FROM version_tags t ${where}
       UNION ALL SELECT 'x', t.model_id, t.version, t.alias, NULL, NULL, NULL FROM aliases t ${where}
       ORDER BY 4`,
      [...values, ...values, ...values],
    );
    for (const c of children) {
      const entry = grouped.get(keyOf(c))!;
      if (c.kind === 'f') entry.files.push({ path: c.a, sha256: c.b, size: c.n, format: c.c });
      else if (c.kind === 't') entry.tags.push({ key: c.a, value: c.b });
      else entry.aliases.push({ alias: c.a });
    }
  }
  return rows.map((r) => toVersion(r, grouped.get(keyOf(r))!));
}

/**
 * The models `FROM models m ...` selects (with its WHERE, ORDER BY and LIMIT), in order, with tags,
 * aliases and latest ready version. The latest version is a correlated MAX that the
 * (model_id, status, version) index answers with one seek per model, not a scan of every version.
 */
export async function modelsPage(
  db: Queryable,
  fromSql: string,
  params: readonly SqlValue[],
): Promise<Model[]> {
  const rows = await db.query(
    // The latest version's scan verdict rides along (lists show it): one more seek on the same index.
    `SELECT m.*, (SELECT MAX(v.version) FROM versions v WHERE v.model_id = m.id AND v.status = 'ready') AS latest_version,
       (SELECT v.scan FROM versions v WHERE v.model_id = m.id AND v.status = 'ready' ORDER BY v.version DESC LIMIT 1) AS latest_scan ${fromSql}`,
    params,
  );
  const grouped = new Map<string, { tags: [string, string][]; aliases: [string, number][] }>();
  for (const r of rows) grouped.set(String(r.id), { tags: [], aliases: [] });
  for (let start = 0; start < rows.length; start += KEYS_PER_QUERY) {
    const ids = rows.slice(start, start + KEYS_PER_QUERY).map((r) => String(r.id));
    const list = ids.map(() => '?').join(', ');
    const children = await db.query(
      `SELECT 't' AS kind, t.model_id, t.key AS a, t.value AS b, NULL AS n FROM model_tags t WHERE t.model_id IN (${list})
       UNION ALL SELECT 'x', t.model_id, t.alias, NULL, t.version FROM aliases t WHERE t.model_id IN (${list})
       ORDER BY 3`,
      [...ids, ...ids],
    );
    for (const c of children) {
      const entry = grouped.get(String(c.model_id))!;
      if (c.kind === 't') entry.tags.push([String(c.a), String(c.b)]);
      else entry.aliases.push([String(c.a), Number(c.n)]);
    }
  }
  return rows.map((row) => {
    const mine = grouped.get(String(row.id))!;
    return {
      name: String(row.full_name),
      namespace: String(row.namespace),
      description: String(row.description),
      visibility: row.visibility as Visibility,
      tags: Object.fromEntries(mine.tags),
      aliases: Object.fromEntries(mine.aliases),
      latestVersion:
        row.latest_version === null || row.latest_version === undefined ? null : Number(row.latest_version),
      latestScan:
        row.latest_scan === null || row.latest_scan === undefined
          ? null
          : (String(row.latest_scan) as ScanVerdict),
      createdAt: String(row.created_at),
      updatedAt: String(row.updated_at),
      createdBy: String(row.created_by),
    };
  });
}

function toVersion(row: Row, { files, tags, aliases }: VersionChildren): ModelVersion {
  return {
    model: String(row.full_name),
    version: Number(row.version),
    status: row.status as ModelVersion['status'],
    description: String(row.description),
    sourceUri: str(row.source_uri),
    runId: str(row.run_id),
    digest: str(row.digest),
    files: files.map((f) => ({
      path: String(f.path),
      sha256: String(f.sha256),
      size: Number(f.size),
      format: str(f.format),
    })),
    inspect: parse(row.inspect),
    scan: row.scan as ScanVerdict,
    scanDetail: str(row.scan_detail),
    tags: Object.fromEntries(tags.map((t) => [String(t.key), String(t.value)])),
    aliases: aliases.map((a) => String(a.alias)),
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
    createdBy: String(row.created_by),
  };
}
