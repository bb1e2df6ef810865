import type { AtMostCheck, MappingRule, Rule } from './rules.js';
import { type Problem, problemText, type Wording } from './wording.js';

/** A field path as the YAML holds it: ['instances', 'count'] or ['inputs', 0, 'shape', 1]. */
export type FieldPath = readonly (string | number)[];

/** One broken rule: where, and what the rule says (in the caller's wording). */
export interface ConfigIssue {
  readonly path: FieldPath;
  readonly rule: string;
}

export interface ValidateOptions {
  /**
   * 'first' stops at the first broken rule (the server refuses a config.yaml with one line);
   * 'all' keeps every broken rule (ferry.yaml lists every problem at once, as fastify's
   * config-validator keeps all its errors).
   */
  readonly mode: 'first' | 'all';
  readonly wording: Wording;
  /** Where the document sits in its file (['serving'] in ferry.yaml); prefixes every path. */
  readonly at?: FieldPath;
}

export type Validation<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/** `dynamic_batching.preferred_batch_sizes[1]`; the document itself is ''. */
export function fieldPathText(path: FieldPath): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text ? `.${part}` : part;
  return text;
}

const INVALID = Symbol('invalid');
const STOP = Symbol('stop');
type Report = (path: FieldPath, problem: Problem) => void;

/** The one validator: a document against a declared mapping rule. */
export function validateDocument(
  rule: MappingRule,
  doc: unknown,
  options: ValidateOptions,
): Validation<unknown> {
  const issues: ConfigIssue[] = [];
  const report: Report = (path, problem) => {
    issues.push({ path, rule: problemText(problem, options.wording) });
    if (options.mode === 'first') throw STOP;
  };
  let value: unknown;
  try {
    value = walk(rule, doc, options.at ?? [], report);
  } catch (error) {
    if (error !== STOP) throw error;
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value };
}

/**
 * The value as read, or INVALID. Lists keep their valid items in place and mappings their valid
 * fields, so rules across fields still run in 'all' mode; nothing partial leaves validateDocument.
 */
function walk(rule: Rule, value: unknown, path: FieldPath, report: Report): unknown {
  switch (rule.kind) {
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value) && value >= rule.min && value <= rule.max)
        return value;
      report(path, { kind: 'integer', min: rule.min, max: rule.max, value });
      return INVALID;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      report(path, { kind: 'boolean', value });
      return INVALID;
    case 'string':
      if (typeof value === 'string' && !(rule.nonEmpty && value === '')) return value;
      report(path, { kind: 'string', nonEmpty: rule.nonEmpty === true, value });
      return INVALID;
    case 'enum':
      if (typeof value === 'string' && rule.values.includes(value)) return value;
      report(path, { kind: 'enum', values: rule.values, ...(rule.what && { what: rule.what }), value });
      return INVALID;
    case 'true':
      if (value === true) return value;
      report(path, { kind: 'true', value });
      return INVALID;
    case 'list':
      if (!Array.isArray(value)) {
        report(path, { kind: 'list', what: rule.what, value });
        return INVALID;
      }
      if (rule.maxItems !== undefined && value.length > rule.maxItems) {
        report(path, { kind: 'too-many', count: value.length, max: rule.maxItems });
        return INVALID;
      }
      if (rule.nonEmpty && value.length === 0) {
        report(path, { kind: 'empty-list', what: rule.what });
        return INVALID;
      }
      return value.map((item, i) => walk(rule.items, item, [...path, i], report));
    case 'mapping':
      return walkMapping(rule, value, path, report);
  }
}

function walkMapping(rule: MappingRule, value: unknown, path: FieldPath, report: Report): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    report(path, { kind: 'mapping', value });
    return INVALID;
  }
  const doc = value as Record<string, unknown>;
  const known = Object.keys(rule.fields);
  for (const key of Object.keys(doc))
    if (!known.includes(key)) report([...path, key], { kind: 'unknown', known });
  if (rule.exactlyOne && known.filter((key) => Object.hasOwn(doc, key)).length !== 1) {
    report(path, { kind: 'exactly-one', fields: known });
    return INVALID;
  }
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(rule.fields)) {
    const present = Object.hasOwn(doc, name) && doc[name] !== undefined;
    if (present || field.required) {
      const read = walk(field, present ? doc[name] : undefined, [...path, name], report);
      if (read !== INVALID) out[name] = read;
    }
    for (const check of rule.checks ?? []) if (check.after === name) atMost(check, out, path, report);
  }
  return out;
}

function atMost(check: AtMostCheck, read: Record<string, unknown>, path: FieldPath, report: Report): void {
  const bound = read[check.bound];
  if (typeof bound !== 'number') return;
  let list: unknown = read;
  for (const key of check.list)
    list = list !== null && typeof list === 'object' ? (list as Record<string, unknown>)[key] : undefined;
  if (!Array.isArray(list)) return;
  for (const [i, item] of list.entries())
    if (typeof item === 'number' && item > bound)
      report([...path, ...check.list, i], {
        kind: 'at-most',
        value: item,
        bound,
        boundField: fieldPathText([...path, check.bound]),
      });
}
