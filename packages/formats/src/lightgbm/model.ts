import { ferryError } from '../errors.js';
import {
  MAX_LIGHTGBM_CLASSES,
  MAX_LIGHTGBM_FEATURES,
  MAX_LIGHTGBM_TREE_LINES,
  MAX_LIGHTGBM_TREES,
} from './limits.js';
import { type LgbmObjective, parseObjective } from './objective.js';
import { readTree, type LgbmTree } from './tree.js';

/** A parsed LightGBM model (the text GBDT::SaveModelToString writes, also what Booster pickles hold). */
export interface LgbmModel {
  /** `v2`, `v3`, `v4`: LightGBM's kModelVersion when it was written. */
  readonly version: string;
  readonly numClass: number;
  /** Trees per boosting iteration: num_class for multiclass, else 1. */
  readonly treesPerIteration: number;
  /** Input columns: max_feature_idx + 1. */
  readonly features: number;
  readonly featureNames: readonly string[];
  /** Absent when the model was trained with a custom (Python) objective: raw scores. */
  readonly objective?: LgbmObjective;
  /** `average_output`: random-forest boosting, the tree sum is divided by the iterations. */
  readonly averageOutput: boolean;
  readonly trees: readonly LgbmTree[];
}

interface Line {
  readonly text: string;
  /** Offset of the line's first character in the text. */
  readonly start: number;
}

/** Lines as LightGBM's Common::GetLine/SkipNewLine see them: ended by \n, \r\n or \r. */
function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < text.length) {
    let end = start;
    while (end < text.length && text[end] !== '\n' && text[end] !== '\r') end++;
    lines.push({ text: text.slice(start, end), start });
    if (text[end] === '\r' && text[end + 1] === '\n') end++;
    start = end + 1;
  }
  return lines;
}

/** A non-negative integer field, bounded. */
function count(value: string | undefined, what: string, path: string, max: number, min = 0): number {
  if (value === undefined || !/^\s*\d+\s*$/.test(value))
    throw ferryError('FERRY_LIGHTGBM_MODEL', { path, what, reason: `${String(value)} is not a count` });
  const n = Number(value);
  if (n > max) throw ferryError('FERRY_LIMIT', { path, what, value: n, limit: max, reason: 'CWE-770' });
  if (n < min) throw ferryError('FERRY_LIGHTGBM_MODEL', { path, what, reason: `${n} is below ${min}` });
  return n;
}

/**
 * Reads LightGBM's text model (src/boosting/gbdt_model_text.cpp, GBDT::LoadModelFromString;
 * trees by src/io/tree.cpp, Tree::Tree(const char*)). The header holds `key=value` lines up to
 * the first `Tree=` line; each tree is a block of `key=value` lines ended by an empty line;
 * `end of trees` closes them. `tree_sizes`, when present, gives each block's byte length, which
 * LightGBM uses to find the blocks: a file whose sizes disagree with its blocks is refused, since
 * LightGBM would read other bytes than ferry.
 */
export function parseLightgbmModel(text: string, path: string): LgbmModel {
  const fail = (what: string, reason: string): never => {
    throw ferryError('FERRY_LIGHTGBM_MODEL', { path, what, reason });
  };
  const lines = splitLines(text);
  // SubModelName(): "tree" for gbdt, dart, goss and rf alike.
  if (lines[0]?.text !== 'tree')
    fail('line 1', `is ${JSON.stringify(lines[0]?.text ?? '')}, expected "tree"`);
  const header = new Map<string, string>();
  let at = 1;
  for (; at < lines.length; at++) {
    const line = lines[at]!.text;
    if (line.startsWith('Tree=') || line === 'end of trees') break;
    if (line === '') continue;
    const parts = line.split('=');
    const key = parts[0]!;
    // Only these two may hold '=' in their value (LoadModelFromString's own rule).
    if (parts.length > 2 && key !== 'feature_names' && key !== 'monotone_constraints')
      fail(`line ${at + 1}`, `${JSON.stringify(line.slice(0, 64))} has more than one '='`);
    if (header.has(key)) fail(`line ${at + 1}`, `${key} is given twice`);
    header.set(key, parts.length === 1 ? '' : line.slice(key.length + 1));
  }
  const need = (key: string): string => header.get(key) ?? fail(key, 'missing from the header');
  const version = header.get('version') ?? 'v1';
  const numClass = count(need('num_class'), 'num_class', path, MAX_LIGHTGBM_CLASSES, 1);
  const treesPerIteration = header.has('num_tree_per_iteration')
    ? count(header.get('num_tree_per_iteration'), 'num_tree_per_iteration', path, MAX_LIGHTGBM_CLASSES, 1)
    : numClass;
  count(need('label_index'), 'label_index', path, Number.MAX_SAFE_INTEGER);
  const features = count(need('max_feature_idx'), 'max_feature_idx', path, MAX_LIGHTGBM_FEATURES - 1) + 1;
  const featureNames = need('feature_names').split(' ');
  if (featureNames.length !== features)
    fail('feature_names', `has ${featureNames.length} names for max_feature_idx ${features - 1}`);
  const infos = need('feature_infos').split(' ');
  if (infos.length !== features)
    fail('feature_infos', `has ${infos.length} entries for ${features} features`);
  const objective = header.has('objective') ? parseObjective(header.get('objective')!) : undefined;

  const trees: LgbmTree[] = [];
  const blocks: number[] = [];
  while (at < lines.length && lines[at]!.text.startsWith('Tree=')) {
    const blockStart = lines[at]!.start;
    const index = lines[at]!.text.slice(5);
    if (index !== String(trees.length))
      fail(`line ${at + 1}`, `Tree=${index} where Tree=${trees.length} was due`);
    if (trees.length >= MAX_LIGHTGBM_TREES)
      throw ferryError('FERRY_LIMIT', {
        path,
        what: 'trees',
        value: trees.length + 1,
        limit: MAX_LIGHTGBM_TREES,
        reason: 'CWE-770',
      });
    at++;
    const fields = new Map<string, string>();
    for (; at < lines.length && lines[at]!.text !== ''; at++) {
      const line = lines[at]!.text;
      const eq = line.indexOf('=');
      if (eq <= 0)
        fail(`Tree=${index} line ${at + 1}`, `${JSON.stringify(line.slice(0, 64))} is not key=value`);
      if (fields.size >= MAX_LIGHTGBM_TREE_LINES)
        fail(`Tree=${index}`, `more than ${MAX_LIGHTGBM_TREE_LINES} lines (MAX_LIGHTGBM_TREE_LINES)`);
      const key = line.slice(0, eq);
      if (fields.has(key)) fail(`Tree=${index}`, `${key} is given twice`);
      fields.set(key, line.slice(eq + 1));
    }
    trees.push(readTree(fields, `Tree=${index}`, features, path));
    while (at < lines.length && lines[at]!.text === '') at++;
    // tree_sizes counts bytes: the UTF-8 length of the block (measured without copying it).
    blocks.push(Buffer.byteLength(text.slice(blockStart, lines[at]?.start ?? text.length), 'utf8'));
  }
  if (lines[at]?.text !== 'end of trees')
    fail(
      `line ${at + 1}`,
      `${JSON.stringify((lines[at]?.text ?? '<end of file>').slice(0, 64))} where a Tree= block or "end of trees" was due`,
    );
  if (header.has('tree_sizes')) {
    const sizes = header.get('tree_sizes')!.split(' ');
    if (sizes.length !== trees.length)
      fail('tree_sizes', `lists ${sizes.length} trees, the file has ${trees.length}`);
    sizes.forEach((s, i) => {
      if (Number(s) !== blocks[i])
        fail(
          `tree_sizes[${i}]`,
          `is ${s}, but Tree=${i} takes ${blocks[i]} bytes (LightGBM would read other bytes)`,
        );
    });
  }
  if (trees.length % treesPerIteration !== 0)
    fail('trees', `${trees.length} trees are not whole iterations of ${treesPerIteration}`);
  return {
    version,
    numClass,
    treesPerIteration,
    features,
    featureNames,
    ...(objective && { objective }),
    averageOutput: header.has('average_output'),
    trees,
  };
}
