import {
  boosterBytes,
  type Estimator,
  ferryError,
  readXgbModel,
  xgbArray as arr,
  type XgbModel,
  xgbNumber as num,
  xgbObject as obj,
} from '../formats.js';
import type { Graph } from './graph.js';
import { binaryProbabilities, type Converted, type Labels, labelOf } from './result.js';
import { Ensemble, type TreeNode } from './tree.js';

/** XGBoost objectives converted, and the link from margin to prediction. */
const OBJECTIVES: Record<string, 'identity' | 'logistic' | 'softmax'> = {
  'reg:squarederror': 'identity',
  'reg:linear': 'identity',
  'reg:absoluteerror': 'identity',
  'reg:pseudohubererror': 'identity',
  'binary:logitraw': 'identity',
  'reg:logistic': 'logistic',
  'binary:logistic': 'logistic',
  'multi:softprob': 'softmax',
  'multi:softmax': 'softmax',
};

const logit = (p: number) => -Math.log(1 / p - 1);

/**
 * The trees as one ensemble: margin = base_score (in margin space: logit for the logistic
 * objectives) + Σ leaf values (× weight_drop for dart). XGBoost splits go left when
 * `x < split_condition` in float32, NaN follows default_left: BRANCH_LT with the float32
 * condition is the same test.
 */
export function convertXgbModel(
  m: XgbModel,
  g: Graph,
  input: string,
  path: string,
  labels?: Labels,
): Converted {
  const link = OBJECTIVES[m.objective];
  if (!link)
    throw ferryError('FERRY_SKLEARN_UNSUPPORTED', {
      path,
      class: 'Booster',
      attribute: 'objective',
      reason: `${m.objective} is not converted`,
    });
  const learner = obj(m.raw.learner, 'learner', path);
  const params = obj(learner.learner_model_param, 'learner_model_param', path);
  const booster = obj(learner.gradient_booster, 'gradient_booster', path);
  const model =
    booster.name === 'dart'
      ? obj(obj(booster.gbtree, 'gbtree', path).model, 'model', path)
      : obj(booster.model, 'model', path);
  const trees = arr(model.trees, 'trees', path);
  const info = arr(model.tree_info, 'tree_info', path);
  const drops = booster.name === 'dart' ? arr(booster.weight_drop, 'weight_drop', path) : undefined;
  const k = link === 'softmax' ? Math.max(1, m.classes) : 1;
  if (num(params.num_target ?? 1, 'num_target', path) !== 1)
    throw ferryError('FERRY_SKLEARN_UNSUPPORTED', {
      path,
      class: 'Booster',
      attribute: 'num_target',
      reason: 'multi-target models',
    });
  // XGBoost >= 3 may write a vector intercept as "[5E-1,5E-1,...]"; 1.x and 2.x one number.
  const text = typeof params.base_score === 'string' ? params.base_score.trim() : undefined;
  const scores = text?.startsWith('[')
    ? text
        .slice(1, -1)
        .split(',')
        .map((v, i) => num(v, `base_score[${i}]`, path))
    : [num(params.base_score, 'base_score', path)];
  if (scores.length !== 1 && scores.length !== k)
    throw ferryError('FERRY_XGBOOST_MODEL', {
      path,
      what: 'base_score',
      reason: `${scores.length} values for ${k} outputs`,
    });
  const base = (scores.length === 1 ? new Array<number>(k).fill(scores[0]!) : scores).map((s) =>
    link === 'logistic' ? logit(s) : s,
  );
  const e = new Ensemble(path, k, 'BRANCH_LT');
  trees.forEach((t, i) => {
    const tree = obj(t, `trees[${i}]`, path);
    const group = num(info[i], `tree_info[${i}]`, path);
    if (!(group >= 0 && group < k))
      throw ferryError('FERRY_XGBOOST_MODEL', {
        path,
        what: `tree_info[${i}]`,
        reason: `group ${group} with ${k} outputs`,
      });
    const weight = drops ? num(drops[i], `weight_drop[${i}]`, path) : 1;
    const left = arr(tree.left_children, `trees[${i}].left_children`, path);
    const right = arr(tree.right_children, `trees[${i}].right_children`, path);
    const cond = arr(tree.split_conditions, `trees[${i}].split_conditions`, path);
    const index = arr(tree.split_indices, `trees[${i}].split_indices`, path);
    const defaults = arr(tree.default_left, `trees[${i}].default_left`, path);
    const types = tree.split_type === undefined ? [] : arr(tree.split_type, `trees[${i}].split_type`, path);
    const n = left.length;
    if ([right, cond, index, defaults].some((a) => a.length !== n))
      throw ferryError('FERRY_XGBOOST_MODEL', {
        path,
        what: `trees[${i}]`,
        reason: 'node arrays of different lengths',
      });
    const nodes: TreeNode[] = [];
    for (let j = 0; j < n; j++) {
      const l = num(left[j], 'left_children', path);
      if (l !== -1 && types[j] !== undefined && types[j] !== 0)
        throw ferryError('FERRY_SKLEARN_UNSUPPORTED', {
          path,
          class: 'Booster',
          attribute: 'split_type',
          reason: `tree ${i} node ${j} is a categorical split`,
        });
      const w = new Array<number>(k).fill(0);
      w[group] = Math.fround(num(cond[j], 'split_conditions', path)) * weight;
      nodes.push({
        leaf: l === -1,
        feature: num(index[j], 'split_indices', path),
        threshold: num(cond[j], 'split_conditions', path),
        left: l,
        right: num(right[j], 'right_children', path),
        missingLeft: num(defaults[j], 'default_left', path) === 1 || defaults[j] === true,
        weights: l === -1 ? w : [],
      });
    }
    e.add(nodes, m.features, `tree ${i}`);
  });
  const raw = e.emit(g, input, base);
  const classifier = m.objective.startsWith('binary:logistic') || link === 'softmax';
  if (!classifier || (labels === undefined && m.objective === 'reg:logistic')) {
    return { kind: 'regressor', out: link === 'logistic' ? g.one('Sigmoid', [raw]) : raw, targets: 1 };
  }
  const count = link === 'softmax' ? k : 2;
  const classes: Labels = labels ?? { ints: Array.from({ length: count }, (_, i) => i) };
  if (link === 'logistic') {
    const probabilities = binaryProbabilities(g, g.one('Sigmoid', [raw]));
    return { kind: 'classifier', label: labelOf(g, probabilities, classes), probabilities, classes };
  }
  const probabilities = g.one('Softmax', [raw], { axis: 1 });
  return { kind: 'classifier', label: labelOf(g, raw, classes), probabilities, classes };
}

export function convertXgbEstimator(est: Estimator, g: Graph, input: string, width: number): Converted {
  const model = readXgbModel(boosterBytes(est), est.src.path);
  if (model.features !== width) est.fail('_Booster', `has ${model.features} features, its input ${width}`);
  const labels = est.name === 'XGBClassifier' && est.has('classes_') ? est.labels('classes_') : undefined;
  const out = convertXgbModel(model, g, input, est.src.path, labels);
  if (est.name === 'XGBRegressor' && out.kind !== 'regressor')
    est.unsupported('objective', `${model.objective} in a regressor`);
  return out;
}
