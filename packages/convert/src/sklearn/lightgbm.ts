import {
  CATEGORICAL_MASK,
  DEFAULT_LEFT_MASK,
  type Estimator,
  ferryError,
  type LgbmModel,
  type LgbmTree,
  MISSING_NONE,
  MISSING_ZERO,
  readLgbmBooster,
} from '../formats.js';
import type { Graph } from './graph.js';
import { binaryProbabilities, type Converted, type Labels, labelCount, labelOf } from './result.js';
import { Ensemble, type TreeNode } from './tree.js';

/** Largest category a float32 comparison still tells from its neighbours (2^24). */
export const MAX_LIGHTGBM_CATEGORY = 1 << 24;

/** LightGBM's kZeroThreshold (include/LightGBM/meta.h: `1e-35f`, a float widened to double). */
const ZERO = Math.fround(1e-35);

/**
 * How an objective turns the raw tree sum into predict()'s answer (ObjectiveFunction::
 * ConvertOutput in src/objective/*.hpp), by the name ToString() writes on the `objective=` line.
 */
type Link = 'identity' | 'sigmoid' | 'softmax' | 'ova' | 'exp' | 'softplus';
const LINKS: Record<string, { link: Link; classifier: boolean }> = {
  regression: { link: 'identity', classifier: false },
  regression_l1: { link: 'identity', classifier: false },
  huber: { link: 'identity', classifier: false },
  fair: { link: 'identity', classifier: false },
  quantile: { link: 'identity', classifier: false },
  mape: { link: 'identity', classifier: false },
  poisson: { link: 'exp', classifier: false },
  gamma: { link: 'exp', classifier: false },
  tweedie: { link: 'exp', classifier: false },
  cross_entropy: { link: 'sigmoid', classifier: false },
  cross_entropy_lambda: { link: 'softplus', classifier: false },
  lambdarank: { link: 'identity', classifier: false },
  rank_xendcg: { link: 'identity', classifier: false },
  binary: { link: 'sigmoid', classifier: true },
  multiclass: { link: 'softmax', classifier: true },
  multiclassova: { link: 'ova', classifier: true },
};

/**
 * One LightGBM tree as ONNX-ML nodes. Ids: internal node i is i, leaf j is numLeaves-1+j, and
 * the extra nodes a categorical or zero-as-missing split needs come after. A node may be the
 * child of several (a categorical range chain shares its two subtrees), as onnxmltools' own
 * LightGBM converter does: ONNX Runtime places each tree depth-first, false branch first, and
 * accepts a node reached again only through a true branch, which is how every shared node here
 * is reached after its first visit.
 *
 * LightGBM (Tree::NumericalDecision, include/LightGBM/tree.h) goes left when `x <= threshold`
 * in double; for a float32 input that is BRANCH_LEQ against the largest float32 <= threshold
 * (Ensemble does that rounding). Missing values by decision_type bits 2-3:
 * - None: NaN is read as 0, so NaN goes where 0 goes (`0 <= threshold`);
 * - NaN: NaN follows the default_left bit, zeros compare as numbers;
 * - Zero: NaN and every |x| <= 1e-35f follow default_left; when that differs from where the
 *   comparison sends them, two band nodes go first (x < -1e-35f, then x > 1e-35f).
 * Categorical (Tree::CategoricalDecision): left when int(x) is in the split's bitset; NaN and
 * int(x) < 0 go right. int() truncates, so category c is x in [c, c+1), and 0 is (-1, 1): each
 * run of consecutive categories becomes a `lower` test (to the right) and an `upper` one.
 */
export function lightgbmTreeNodes(
  tree: LgbmTree,
  target: number,
  weight: number,
  targets: number,
  fail: (what: string, reason: string) => never,
): TreeNode[] {
  const inner = tree.numLeaves - 1;
  const leafValue = (j: number) => {
    const w = new Array<number>(targets).fill(0);
    w[target] = tree.leafValue[j]! * weight;
    return w;
  };
  const nodes: TreeNode[] = [];
  const id = (child: number) => (child >= 0 ? child : inner + ~child);
  const extra: TreeNode[] = [];
  const next = () => inner + tree.numLeaves + extra.length;
  for (let i = 0; i < inner; i++) {
    const feature = tree.splitFeature[i]!;
    const t = tree.threshold[i]!;
    const dt = tree.decisionType[i]!;
    const left = id(tree.leftChild[i]!);
    const right = id(tree.rightChild[i]!);
    const split = (
      threshold: number,
      yes: number,
      no: number,
      missingLeft: boolean,
      mode?: 'BRANCH_LT' | 'BRANCH_GT',
    ) => ({
      leaf: false,
      feature,
      threshold,
      left: yes,
      right: no,
      missingLeft,
      weights: [],
      ...(mode && { mode }),
    });
    if (dt & CATEGORICAL_MASK) {
      const runs = categoryRuns(tree, t, fail, i);
      if (runs.length === 0) {
        nodes.push(split(Number.NEGATIVE_INFINITY, left, right, false, 'BRANCH_LT'));
        continue;
      }
      // Node i is lower_0; then upper_0, lower_1, upper_1, ... at base, base+1, ...
      // lower_k: int(x) < a_k (or NaN) -> right; upper_k: x < b_k + 1 -> left, else lower_k+1.
      const base = next();
      const lowerId = (k: number) => (k === 0 ? i : base + 2 * k - 1);
      const upperId = (k: number) => base + 2 * k;
      runs.forEach(([a, b], k) => {
        const lower =
          a === 0
            ? split(-1, right, upperId(k), true) // int(x) < 0 is x <= -1
            : split(a, right, upperId(k), true, 'BRANCH_LT');
        if (k === 0) nodes.push(lower);
        else extra.push(lower);
        extra.push(split(b + 1, left, k + 1 < runs.length ? lowerId(k + 1) : right, false, 'BRANCH_LT'));
      });
      continue;
    }
    const defaultLeft = (dt & DEFAULT_LEFT_MASK) !== 0;
    const missing = (dt >> 2) & 3;
    if (missing === MISSING_NONE) {
      nodes.push(split(t, left, right, 0 <= t));
    } else if (missing !== MISSING_ZERO || (defaultLeft ? t >= ZERO : t < -ZERO)) {
      // NaN type, or a zero band the comparison already sends the default way.
      nodes.push(split(t, left, right, defaultLeft));
    } else {
      // ONNX Runtime lays a tree out false-branch first and lets only a true branch lead to a
      // node already placed: the band tests send the band down their false branches to the
      // default child, and the comparison has the default child on its true side.
      const band = next();
      const compare = band + 1;
      const home = defaultLeft ? left : right;
      nodes.push(split(-ZERO, compare, band, false, 'BRANCH_LT')); // x < -1e-35f
      extra.push(split(ZERO, compare, home, false, 'BRANCH_GT')); // x > 1e-35f, else the band
      extra.push(defaultLeft ? split(t, left, right, false) : split(t, right, left, false, 'BRANCH_GT'));
    }
  }
  for (let j = 0; j < tree.numLeaves; j++)
    nodes.push({
      leaf: true,
      feature: 0,
      threshold: 0,
      left: -1,
      right: -1,
      missingLeft: false,
      weights: leafValue(j),
    });
  return [...nodes, ...extra];
}

/** The categories of bitset `index` as inclusive runs [a, b] of consecutive integers. */
function categoryRuns(
  tree: LgbmTree,
  index: number,
  fail: (what: string, reason: string) => never,
  node: number,
): [number, number][] {
  const from = tree.catBoundaries[index]!;
  const to = tree.catBoundaries[index + 1]!;
  const runs: [number, number][] = [];
  for (let w = from; w < to; w++) {
    const word = tree.catThreshold[w]!;
    for (let bit = 0; bit < 32; bit++) {
      if (((word >>> bit) & 1) === 0) continue;
      const c = (w - from) * 32 + bit;
      if (c >= MAX_LIGHTGBM_CATEGORY)
        fail(
          `node ${node}`,
          `category ${c} is over MAX_LIGHTGBM_CATEGORY ${MAX_LIGHTGBM_CATEGORY} (float32 inputs cannot tell it apart)`,
        );
      const last = runs[runs.length - 1];
      if (last && last[1] === c - 1) last[1] = c;
      else runs.push([c, c]);
    }
  }
  return runs;
}

export interface LightgbmOptions {
  /** Iterations predict() uses (Booster.best_iteration); every one by default. */
  readonly iterations?: number;
  /** classes_ of an LGBMClassifier; 0..k-1 for a bare Booster or text model. */
  readonly labels?: Labels;
  /** `regressor` for LGBMRegressor/LGBMRanker, `classifier` for LGBMClassifier, else by objective. */
  readonly as?: 'regressor' | 'classifier';
}

/**
 * A LightGBM model as ONNX-ML: one TreeEnsembleRegressor with one target per tree of an
 * iteration (GBDT::PredictRaw: tree i adds to output i mod num_tree_per_iteration), divided by
 * the iterations for average_output (random forest), then the objective's ConvertOutput.
 * Leaf values already carry the learning rate, and boost_from_average's initial score is folded
 * into the first tree, so there is no base value.
 */
export function convertLgbmModel(
  m: LgbmModel,
  g: Graph,
  input: string,
  path: string,
  options: LightgbmOptions = {},
): Converted {
  const unsupported = (attribute: string, reason: string): never => {
    throw ferryError('FERRY_SKLEARN_UNSUPPORTED', { path, class: 'LightGBM Booster', attribute, reason });
  };
  const name = m.objective?.name;
  const spec = name === undefined ? { link: 'identity' as Link, classifier: false } : LINKS[name];
  if (!spec) return unsupported('objective', `${name} is not converted`);
  const k = m.treesPerIteration;
  if ((spec.link === 'softmax' || spec.link === 'ova') && k !== m.numClass)
    unsupported('num_tree_per_iteration', `${k} trees per iteration for ${m.numClass} classes`);
  if (spec.classifier && spec.link === 'sigmoid' && k !== 1)
    unsupported('num_tree_per_iteration', `${k} trees per iteration for a binary objective`);
  const total = m.trees.length / k;
  const iterations = Math.min(options.iterations ?? total, total);
  const weight = m.averageOutput ? 1 / iterations : 1;
  const e = new Ensemble(path, k, 'BRANCH_LEQ');
  for (let i = 0; i < iterations * k; i++) {
    const tree = m.trees[i]!;
    const fail = (what: string, reason: string): never => {
      throw ferryError('FERRY_LIGHTGBM_MODEL', { path, what: `Tree=${i} ${what}`, reason });
    };
    if (tree.linear) unsupported(`Tree=${i}.is_linear`, 'linear trees (linear_tree=true) are not converted');
    e.add(lightgbmTreeNodes(tree, i % k, weight, k, fail), m.features, `Tree=${i}`);
  }
  const raw = e.emit(g, input, new Array<number>(k).fill(0));
  const scale = Number(m.objective?.params.sigmoid ?? 1);
  const scaled = () => (scale === 1 ? raw : g.one('Mul', [raw, g.floats([scale], [])]));
  const as = options.as ?? (spec.classifier ? 'classifier' : 'regressor');
  if (as === 'regressor') {
    if (spec.classifier) unsupported('objective', `${name} in a regressor`);
    let out = raw;
    if (spec.link === 'exp') out = g.one('Exp', [raw]);
    else if (spec.link === 'sigmoid') out = g.one('Sigmoid', [raw]);
    else if (spec.link === 'softplus') out = g.one('Softplus', [raw]);
    // `regression sqrt`: trained on sqrt(|y|), so predict() answers sign(x)·x² = x·|x|.
    else if (m.objective?.flags.includes('sqrt')) out = g.one('Mul', [raw, g.one('Abs', [raw])]);
    return { kind: 'regressor', out, targets: k };
  }
  if (!spec.classifier) return unsupported('objective', `${name ?? 'a custom objective'} in a classifier`);
  const count = spec.link === 'sigmoid' ? 2 : k;
  const classes = options.labels ?? { ints: Array.from({ length: count }, (_, i) => i) };
  if (labelCount(classes) !== count)
    unsupported('classes_', `${labelCount(classes)} classes for a ${count}-class ${name} model`);
  if (spec.link === 'sigmoid') {
    const probabilities = binaryProbabilities(g, g.one('Sigmoid', [scaled()]));
    return { kind: 'classifier', label: labelOf(g, probabilities, classes), probabilities, classes };
  }
  // multiclassova: each class its own sigmoid, not normalised (LGBMClassifier.predict_proba too).
  const probabilities =
    spec.link === 'softmax' ? g.one('Softmax', [raw], { axis: 1 }) : g.one('Sigmoid', [scaled()]);
  return { kind: 'classifier', label: labelOf(g, probabilities, classes), probabilities, classes };
}

/** LGBMClassifier / LGBMRegressor / LGBMRanker / a bare lightgbm.basic.Booster from a pickle. */
export function convertLgbmEstimator(est: Estimator, g: Graph, input: string, width: number): Converted {
  if (!est.cls.startsWith('lightgbm.'))
    est.unsupported('(class)', `${est.cls} has no ONNX conversion in ferry`);
  const { model, iterations } = readLgbmBooster(est);
  if (model.features !== width) est.fail('_Booster', `has ${model.features} features, its input ${width}`);
  if (est.name === 'LGBMClassifier') {
    const labels = est.has('_classes') ? est.labels('_classes') : est.child('_le').labels('classes_');
    return convertLgbmModel(model, g, input, est.src.path, { iterations, labels, as: 'classifier' });
  }
  const as = est.name === 'LGBMRegressor' || est.name === 'LGBMRanker' ? 'regressor' : undefined;
  return convertLgbmModel(model, g, input, est.src.path, { iterations, ...(as && { as }) });
}

/** The input width of a LightGBM estimator: `_n_features` as fit() set it, else the model's. */
export function lightgbmWidth(est: Estimator): number {
  if (est.has('_n_features') && est.opt('_n_features') !== null) return est.int('_n_features');
  return readLgbmBooster(est).model.features;
}
