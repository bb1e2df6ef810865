import type { SqlValue } from './metadata-store.js';

/** One condition of a search: a field compared with a value (MLflow's filter grammar maps onto it). */
export interface Condition {
  readonly field: 'name' | 'run_id' | 'source' | 'tag';
  /** The tag key, for field 'tag'. */
  readonly key?: string;
  readonly op: '=' | '!=' | 'LIKE' | 'ILIKE';
  readonly value: string;
}

/** Which models a caller may read, in SQL terms: everything, or public + namespaces + names. */
export interface Readable {
  readonly all: boolean;
  readonly namespaces: readonly string[];
  readonly names: readonly string[];
}

/** Builds a WHERE clause over `m` (models) and, for version searches, `v` (versions). */
export function whereClause(
  conditions: readonly Condition[],
  readable: Readable,
  target: 'models' | 'versions',
): { sql: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  for (const c of conditions) {
    const compare = (column: string) => {
      params.push(c.value);
      return c.op === 'ILIKE'
        ? `LOWER(${column}) LIKE LOWER(?)`
        : c.op === '!='
          ? `${column} <> ?`
          : `${column} ${c.op} ?`;
    };
    if (c.field === 'name') parts.push(compare('m.full_name'));
    else if (c.field === 'run_id') parts.push(target === 'versions' ? compare('v.run_id') : 'FALSE');
    else if (c.field === 'source') parts.push(target === 'versions' ? compare('v.source_uri') : 'FALSE');
    else {
      params.push(c.key ?? '');
      // An uncorrelated IN over the (key, value) index: one index range, not a probe per row.
      parts.push(
        target === 'versions'
          ? `(v.model_id, v.version) IN (SELECT t.model_id, t.version FROM version_tags t WHERE t.key = ? AND ${compare('t.value')})`
          : `m.id IN (SELECT t.model_id FROM model_tags t WHERE t.key = ? AND ${compare('t.value')})`,
      );
    }
  }
  if (!readable.all) {
    const any = ["m.visibility = 'public'"];
    for (const ns of readable.namespaces) {
      any.push('m.namespace = ?');
      params.push(ns);
    }
    for (const name of readable.names) {
      any.push('m.full_name = ?');
      params.push(name);
    }
    parts.push(`(${any.join(' OR ')})`);
  }
  return { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}
