/**
 * What a broken rule says. The rules are one set; the two files that use them have always worded
 * their messages differently and users' scripts match them, so each keeps its wording:
 * config.yaml (the server) says `... (got "x")`, ferry.yaml (bundles) says `..., not string "x"`.
 */
export type Problem =
  | { readonly kind: 'mapping'; readonly value: unknown }
  | { readonly kind: 'unknown'; readonly known: readonly string[] }
  | { readonly kind: 'exactly-one'; readonly fields: readonly string[] }
  | { readonly kind: 'integer'; readonly min: number; readonly max: number; readonly value: unknown }
  | { readonly kind: 'boolean'; readonly value: unknown }
  | { readonly kind: 'string'; readonly nonEmpty: boolean; readonly value: unknown }
  | {
      readonly kind: 'enum';
      readonly values: readonly string[];
      readonly what?: string;
      readonly value: unknown;
    }
  | { readonly kind: 'true'; readonly value: unknown }
  | { readonly kind: 'list'; readonly what: string; readonly value: unknown }
  | { readonly kind: 'empty-list'; readonly what: string }
  | { readonly kind: 'too-many'; readonly count: number; readonly max: number }
  | { readonly kind: 'at-most'; readonly value: number; readonly bound: number; readonly boundField: string };

export type Wording = 'config-yaml' | 'ferry-yaml';

/** A value as ferry.yaml messages name it: `empty`, `a list`, `a mapping`, `string "x"`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}

export function problemText(problem: Problem, wording: Wording): string {
  return wording === 'config-yaml' ? configText(problem) : manifestText(problem);
}

function configText(p: Problem): string {
  const got = 'value' in p ? ` (got ${JSON.stringify(p.value)})` : '';
  switch (p.kind) {
    case 'mapping':
      return 'must be a mapping';
    case 'unknown':
      return `unknown field (known: ${p.known.join(', ')})`;
    case 'exactly-one':
      return `must have exactly one of ${p.fields.join(', ')}`;
    case 'integer':
      return `must be an integer from ${p.min} to ${p.max}${got}`;
    case 'boolean':
      return `must be true or false${got}`;
    case 'string':
      return p.nonEmpty ? 'must be a non-empty string' : 'must be a string';
    case 'enum':
      return `must be ${p.what ?? `one of ${p.values.join(', ')}`}${got}`;
    case 'true':
      return 'must be true';
    case 'list':
    case 'empty-list':
      return `must be ${p.what}`;
    case 'too-many':
      return `has ${p.count} entries, over the limit of ${p.max}`;
    case 'at-most':
      return `is ${p.value}, over ${p.boundField} ${p.bound}`;
  }
}

function manifestText(p: Problem): string {
  const not = 'value' in p ? `, not ${describeValue(p.value)}` : '';
  switch (p.kind) {
    case 'mapping':
      return `must be a mapping${not}`;
    case 'unknown':
      return `unknown field (known: ${p.known.join(', ')})`;
    case 'exactly-one':
      return `must have exactly one of ${p.fields.join(', ')}`;
    case 'integer':
      return `must be an integer from ${p.min} to ${p.max}${not}`;
    case 'boolean':
      return `must be true or false${not}`;
    case 'string':
      return `must be a ${p.nonEmpty ? 'non-empty ' : ''}string${not}`;
    case 'enum':
      return `must be ${p.what ?? `one of ${p.values.join(', ')}`}${not}`;
    case 'true':
      return `must be true${not}`;
    case 'list':
      return `must be a list${not}`;
    case 'empty-list':
      return 'must not be empty';
    case 'too-many':
      return `has ${p.count} entries, over the limit of ${p.max}`;
    case 'at-most':
      return `${p.value} is larger than ${p.boundField} (${p.bound})`;
  }
}
