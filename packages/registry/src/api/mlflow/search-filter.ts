import { registryError } from '../../errors.js';
import type { CompareOp, OrderTerm, RunCondition } from '../../store/run-search.js';
import { MAX_FILTER_CONDITIONS, MAX_FILTER_LENGTH } from './filter.js';

/** order_by terms in one search (MLflow's own server accepts a short list too). */
export const MAX_ORDER_TERMS = 10;

const PREFIXES: Record<string, RunCondition['entity']> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};

const bad = (what: string, text: string, reason: string) =>
  registryError('FERRY_REGISTRY_BAD_REQUEST', {
    what: `${what} ${JSON.stringify(text.slice(0, 200))}`,
    reason,
  });

/** `metrics.acc`, metrics.`my key`, metrics."my key", `status` (a bare name is an attribute). */
function identifier(text: string, what: string, source: string): Pick<RunCondition, 'entity' | 'key'> {
  const unquote = (s: string) => (/^([`"']).*\1$/.test(s) ? s.slice(1, -1) : s);
  const dot = text.indexOf('.');
  const head = dot < 0 ? '' : text.slice(0, dot).toLowerCase();
  const entity = PREFIXES[head];
  if (dot < 0 || !entity) {
    if (dot >= 0 && !/^[`"]/.test(text))
      throw bad(
        what,
        source,
        `unknown prefix ${JSON.stringify(head)}: use metrics., params., tags. or attributes.`,
      );
    return { entity: 'attribute', key: unquote(text).toLowerCase() };
  }
  const key = unquote(text.slice(dot + 1));
  return { entity, key: entity === 'attribute' ? key.toLowerCase() : key };
}

const TOKEN =
  /\s*(?:(\(|\)|,)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w.])|(!=|<>|<=|>=|=|<|>)|([A-Za-z_][A-Za-z0-9_]*(?:\.(?:`[^`]*`|"[^"]*"|[A-Za-z0-9_.-]+))?|`[^`]*`))/y;

type Token = { kind: 'punct' | 'string' | 'number' | 'op' | 'word'; text: string };

function tokenize(text: string, what: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (!m) throw bad(what, text, `cannot read at character ${at}`);
    at = TOKEN.lastIndex;
    if (m[1]) tokens.push({ kind: 'punct', text: m[1] });
    else if (m[2]) tokens.push({ kind: 'string', text: m[2].slice(1, -1).replace(/\\(.)/g, '$1') });
    else if (m[3]) tokens.push({ kind: 'number', text: m[3] });
    else if (m[4]) tokens.push({ kind: 'op', text: m[4] === '<>' ? '!=' : m[4] });
    else tokens.push({ kind: 'word', text: m[5]! });
  }
  return tokens;
}

/**
 * MLflow's search filter for runs and experiments (mlflow/utils/search_utils.py): comparisons joined
 * by AND; `metrics.KEY OP NUMBER`, `params.KEY`/`tags.KEY` with =, !=, LIKE, ILIKE, IN, NOT IN and a
 * string, attributes by name. OR is not part of MLflow's grammar either.
 */
export function parseSearchFilter(text: string | undefined, what = 'filter'): RunCondition[] {
  if (!text || text.trim() === '') return [];
  if (text.length > MAX_FILTER_LENGTH) throw bad(what, text, `longer than ${MAX_FILTER_LENGTH} characters`);
  const tokens = tokenize(text, what);
  const conditions: RunCondition[] = [];
  let i = 0;
  const word = (w: string) => tokens[i]?.kind === 'word' && tokens[i]!.text.toUpperCase() === w;
  while (i < tokens.length) {
    const ident = tokens[i++];
    if (ident?.kind !== 'word')
      throw bad(what, text, 'expected a key such as metrics.acc, params.x or status');
    const target = identifier(ident.text, what, text);
    let op: CompareOp;
    if (tokens[i]?.kind === 'op') op = tokens[i++]!.text as CompareOp;
    else if (word('LIKE') || word('ILIKE') || word('IN')) op = tokens[i++]!.text.toUpperCase() as CompareOp;
    else if (word('NOT') && tokens[i + 1]?.text.toUpperCase() === 'IN') {
      op = 'NOT IN';
      i += 2;
    } else
      throw bad(
        what,
        text,
        `expected a comparison after ${ident.text} (=, !=, <, <=, >, >=, LIKE, ILIKE, IN)`,
      );
    let value: RunCondition['value'];
    if (op === 'IN' || op === 'NOT IN') {
      if (tokens[i++]?.text !== '(') throw bad(what, text, `${op} takes a list: ('a', 'b')`);
      const list: string[] = [];
      for (;;) {
        const item = tokens[i++];
        if (item?.kind !== 'string') throw bad(what, text, `${op} lists hold quoted strings`);
        list.push(item.text);
        const sep = tokens[i++];
        if (sep?.text === ')') break;
        if (sep?.text !== ',') throw bad(what, text, `${op} list: expected , or )`);
      }
      value = list;
    } else {
      const v = tokens[i++];
      if (v?.kind !== 'string' && v?.kind !== 'number') throw bad(what, text, `expected a value after ${op}`);
      value = v.kind === 'number' ? Number(v.text) : v.text;
    }
    check(target, op, value, what, text);
    conditions.push({ ...target, op, value });
    if (conditions.length > MAX_FILTER_CONDITIONS)
      throw bad(what, text, `more than ${MAX_FILTER_CONDITIONS} conditions`);
    if (i < tokens.length) {
      if (!word('AND'))
        throw bad(what, text, 'conditions must be joined by AND (OR is not supported, as in MLflow)');
      i++;
      if (i >= tokens.length) throw bad(what, text, 'ends with AND');
    }
  }
  return conditions;
}

const NUMERIC = new Set(['start_time', 'end_time', 'creation_time', 'last_update_time']);

/** The operators MLflow allows per kind of key (SearchUtils.VALID_*_COMPARATORS). */
function check(
  target: Pick<RunCondition, 'entity' | 'key'>,
  op: CompareOp,
  value: RunCondition['value'],
  what: string,
  text: string,
): void {
  const numeric = target.entity === 'metric' || (target.entity === 'attribute' && NUMERIC.has(target.key));
  if (numeric) {
    if (['LIKE', 'ILIKE', 'IN', 'NOT IN'].includes(op) || typeof value !== 'number')
      throw bad(
        what,
        text,
        `${target.entity === 'metric' ? `metrics.${target.key}` : target.key} compares with a number (=, !=, <, <=, >, >=)`,
      );
    return;
  }
  if (['<', '<=', '>', '>='].includes(op))
    throw bad(what, text, `${target.key} takes =, !=, LIKE, ILIKE, IN or NOT IN`);
  if (typeof value === 'number') throw bad(what, text, `${target.key} compares with a quoted string`);
}

/** MLflow's order_by: `metrics.acc DESC`, `attributes.start_time`, `params.lr ASC`, `name`. */
export function parseOrderBy(list: readonly string[], what = 'order_by'): OrderTerm[] {
  if (list.length > MAX_ORDER_TERMS)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', { what, reason: `at most ${MAX_ORDER_TERMS} terms` });
  return list.map((term) => {
    const m = /^\s*(.+?)(?:\s+(ASC|DESC))?\s*$/i.exec(term);
    if (!m) throw bad(what, term, 'expected KEY [ASC|DESC]');
    const target = identifier(m[1]!, what, term);
    return { ...target, descending: m[2]?.toUpperCase() === 'DESC' };
  });
}
