import { ferryError } from '../errors.js';
import { MAX_LIGHTGBM_CAT_WORDS, MAX_LIGHTGBM_LEAVES } from './limits.js';

/** decision_type bit 0: a categorical split (include/LightGBM/tree.h, kCategoricalMask). */
export const CATEGORICAL_MASK = 1;
/** decision_type bit 1: missing values go left (kDefaultLeftMask). */
export const DEFAULT_LEFT_MASK = 2;
/** decision_type bits 2-3 (MissingType in bin.h): None, Zero, NaN. */
export const MISSING_NONE = 0;
export const MISSING_ZERO = 1;
export const MISSING_NAN = 2;

/**
 * One tree as LightGBM stores it: internal nodes 0..num_leaves-2, a child >= 0 is an internal
 * node, a child < 0 is leaf ~child. leaf_value already includes the shrinkage (Tree::Shrinkage
 * scales the leaves; `shrinkage=` is a record, not a factor to apply again).
 */
export interface LgbmTree {
  readonly numLeaves: number;
  readonly numCat: number;
  readonly splitFeature: readonly number[];
  readonly threshold: readonly number[];
  readonly decisionType: readonly number[];
  readonly leftChild: readonly number[];
  readonly rightChild: readonly number[];
  readonly leafValue: readonly number[];
  /** Bitset bounds per categorical split (num_cat + 1 words offsets into catThreshold). */
  readonly catBoundaries: readonly number[];
  readonly catThreshold: readonly number[];
  /** is_linear=1: leaves are linear models (linear_tree), not constants. */
  readonly linear: boolean;
  readonly shrinkage: number;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** A double as LightGBM's Common::Atof reads it, including inf/nan spellings. */
function toNumber(s: string): number | undefined {
  if (NUMBER.test(s)) return Number(s);
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity') return Number.POSITIVE_INFINITY;
  if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
  if (lower === 'nan' || lower === 'na' || lower === 'null') return Number.NaN;
  return undefined;
}

/** Reads one `Tree=i` block's fields (Tree::Tree(const char*)) and checks it is a tree. */
export function readTree(
  fields: ReadonlyMap<string, string>,
  where: string,
  features: number,
  path: string,
): LgbmTree {
  const fail = (what: string, reason: string): never => {
    throw ferryError('FERRY_LIGHTGBM_MODEL', { path, what: `${where} ${what}`, reason });
  };
  const field = (key: string): string => fields.get(key) ?? fail(key, 'missing');
  const numbers = (key: string, n: number, parse: (s: string, i: number) => number): number[] => {
    if (n === 0) return [];
    const parts = field(key).split(' ');
    // ArrayToString ends lists without a separator; tolerate one trailing space.
    if (parts.length === n + 1 && parts[n] === '') parts.pop();
    if (parts.length !== n) fail(key, `has ${parts.length} values, expected ${n}`);
    return parts.map(parse);
  };
  const int = (key: string, min: number, max: number) => (s: string, i: number) => {
    if (!/^-?\d+$/.test(s)) fail(`${key}[${i}]`, `${JSON.stringify(s)} is not an integer`);
    const v = Number(s);
    if (v < min || v > max) fail(`${key}[${i}]`, `${v} is outside [${min}, ${max}]`);
    return v;
  };
  const real = (key: string, finite: boolean) => (s: string, i: number) => {
    const v = toNumber(s);
    if (v === undefined || Number.isNaN(v) || (finite && !Number.isFinite(v)))
      fail(`${key}[${i}]`, `${JSON.stringify(s)} is not a ${finite ? 'finite ' : ''}number`);
    return v as number;
  };
  const numLeaves = int('num_leaves', 1, MAX_LIGHTGBM_LEAVES)(field('num_leaves'), 0);
  const numCat = int('num_cat', 0, Math.max(0, numLeaves - 1))(field('num_cat'), 0);
  const linear = fields.has('is_linear') && fields.get('is_linear') !== '0';
  const leafValue = numbers('leaf_value', numLeaves, real('leaf_value', true));
  const shrinkage = fields.has('shrinkage') ? real('shrinkage', false)(fields.get('shrinkage')!, 0) : 1;
  const inner = numLeaves - 1;
  const splitFeature = numbers('split_feature', inner, int('split_feature', 0, features - 1));
  const threshold = numbers('threshold', inner, real('threshold', false));
  const decisionType = fields.has('decision_type')
    ? numbers('decision_type', inner, int('decision_type', 0, 127))
    : new Array<number>(inner).fill(0);
  const leftChild = numbers('left_child', inner, int('left_child', -numLeaves, inner - 1));
  const rightChild = numbers('right_child', inner, int('right_child', -numLeaves, inner - 1));
  let catBoundaries: number[] = [];
  let catThreshold: number[] = [];
  if (numCat > 0) {
    catBoundaries = numbers('cat_boundaries', numCat + 1, int('cat_boundaries', 0, MAX_LIGHTGBM_CAT_WORDS));
    if (catBoundaries[0] !== 0) fail('cat_boundaries', 'does not start at 0');
    for (let i = 1; i <= numCat; i++)
      if (catBoundaries[i]! < catBoundaries[i - 1]!) fail('cat_boundaries', `decreases at ${i}`);
    catThreshold = numbers('cat_threshold', catBoundaries[numCat]!, int('cat_threshold', 0, 0xffffffff));
  }
  // Every internal node but the root, and every leaf, has exactly one parent, and a child comes
  // after its parent (LightGBM numbers nodes in split order): a tree, with no cycle to walk.
  const internalParents = new Uint8Array(Math.max(inner, 1));
  const leafParents = new Uint8Array(numLeaves);
  for (let i = 0; i < inner; i++) {
    for (const c of [leftChild[i]!, rightChild[i]!]) {
      if (c >= 0) {
        if (c <= i) fail(`node ${i}`, `child ${c} does not come after its parent`);
        if (internalParents[c]!++ > 0) fail(`node ${c}`, 'has two parents');
      } else if (leafParents[~c]!++ > 0) fail(`leaf ${~c}`, 'has two parents');
    }
    const dt = decisionType[i]!;
    if (((dt >> 2) & 3) > MISSING_NAN)
      fail(`decision_type[${i}]`, `missing type ${(dt >> 2) & 3} is not None, Zero or NaN`);
    if (dt & CATEGORICAL_MASK) {
      const t = threshold[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= numCat)
        fail(`threshold[${i}]`, `categorical split ${t} is not one of the ${numCat} bitsets`);
    }
  }
  if (inner > 0) {
    const orphan = leafParents.indexOf(0);
    if (orphan >= 0) fail(`leaf ${orphan}`, 'is not reached from the root');
  }
  return {
    numLeaves,
    numCat,
    splitFeature,
    threshold,
    decisionType,
    leftChild,
    rightChild,
    leafValue,
    catBoundaries,
    catThreshold,
    linear,
    shrinkage,
  };
}
