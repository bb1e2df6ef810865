import { registryError } from '../../errors.js';
import type { Condition } from '../../store/search.js';

/** Longest filter string accepted (MLflow's own server has no documented limit; this bounds parsing). */
export const MAX_FILTER_LENGTH = 2000;
/** Conditions joined by AND in one filter. */
export const MAX_FILTER_CONDITIONS = 20;

/**
 * MLflow's registry search filter (mlflow/utils/search_utils.py SearchModelUtils /
 * SearchModelVersionUtils): `name = 'x'`, `name LIKE '%x%'`, `name ILIKE`, `run_id = '...'`,
 * `source_path = '...'`, `tags.key = 'v'` (or tags.`key with spaces`), joined by AND.
 * Strings are single- or double-quoted; identifiers may be backquoted.
 */
export function parseFilter(text: string | undefined, target: 'models' | 'versions'): Condition[] {
  if (!text || text.trim() === '') return [];
  const bad = (reason: string) =>
    registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: `filter ${JSON.stringify(text.slice(0, 200))}`,
      reason,
    });
  if (text.length > MAX_FILTER_LENGTH) throw bad(`longer than ${MAX_FILTER_LENGTH} characters`);
  const token =
    /\s*(?:(`(?:[^`])*`|[A-Za-z_][A-Za-z0-9_]*(?:\.(?:`[^`]*`|[A-Za-z0-9_.-]+))?)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(!=|<>|=|\bI?LIKE\b|\bAND\b))/iy;
  const tokens: { kind: 'ident' | 'string' | 'op'; text: string }[] = [];
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    token.lastIndex = at;
    const m = token.exec(text);
    if (!m) throw bad(`cannot read at character ${at}`);
    at = token.lastIndex;
    if (m[3]) tokens.push({ kind: 'op', text: m[3].toUpperCase() });
    else if (m[2]) tokens.push({ kind: 'string', text: m[2].slice(1, -1).replace(/\\(.)/g, '$1') });
    else if (/^(I?LIKE|AND)$/i.test(m[1]!)) tokens.push({ kind: 'op', text: m[1]!.toUpperCase() });
    else tokens.push({ kind: 'ident', text: m[1]! });
  }
  const conditions: Condition[] = [];
  for (let i = 0; i < tokens.length; ) {
    const [ident, op, value] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (ident?.kind !== 'ident' || op?.kind !== 'op' || op.text === 'AND' || value?.kind !== 'string')
      throw bad("expected IDENTIFIER OP 'value' (OP is =, !=, LIKE or ILIKE), joined by AND");
    conditions.push(
      condition(ident.text, op.text === '<>' ? '!=' : (op.text as Condition['op']), value.text, target, bad),
    );
    i += 3;
    if (i < tokens.length) {
      if (tokens[i]?.kind !== 'op' || tokens[i]!.text !== 'AND')
        throw bad('conditions must be joined by AND (OR is not supported, as in MLflow)');
      i++;
      if (i >= tokens.length) throw bad('ends with AND');
    }
    if (conditions.length > MAX_FILTER_CONDITIONS) throw bad(`more than ${MAX_FILTER_CONDITIONS} conditions`);
  }
  return conditions;
}

function condition(
  ident: string,
  op: Condition['op'],
  value: string,
  target: 'models' | 'versions',
  bad: (reason: string) => Error,
): Condition {
  const unquote = (s: string) => (s.startsWith('`') ? s.slice(1, -1) : s);
  const lower = ident.toLowerCase();
  if (lower.startsWith('tags.') || lower.startsWith('tag.'))
    return { field: 'tag', key: unquote(ident.slice(ident.indexOf('.') + 1)), op, value };
  const name = unquote(lower);
  if (name === 'name') return { field: 'name', op, value };
  if (target === 'versions' && name === 'run_id') {
    if (op !== '=' && op !== '!=') throw bad('run_id takes = or !=');
    return { field: 'run_id', op, value };
  }
  if (target === 'versions' && (name === 'source_path' || name === 'source'))
    return { field: 'source', op, value };
  throw bad(
    `unknown key ${ident}; use name, ${target === 'versions' ? 'run_id, source_path, ' : ''}or tags.KEY`,
  );
}
