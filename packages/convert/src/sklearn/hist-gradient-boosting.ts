import type { Graph } from './graph.js';
import {
  binaryProbabilities,
  type Converted,
  checkWidth,
  type Labels,
  labelCount,
  labelOf,
} from './result.js';
import type { Estimator } from '../formats.js';
import { Ensemble, type TreeNode } from './tree.js';

/** Losses whose link is the identity (raw prediction = predict), by name across sklearn 1.0-1.5. */
const IDENTITY_LOSSES = new Set([
  'squared_error',
  'absolute_error',
  'quantile',
  'least_squares',
  'least_absolute_deviation',
]);
const LOG_LOSSES = new Set(['log_loss', 'auto', 'binary_crossentropy', 'categorical_crossentropy']);

/**
 * HistGradientBoostingClassifier/Regressor: `_baseline_prediction` + Σ leaf values of
 * `_predictors[iteration][k]` (TreePredictor.nodes, PREDICTOR_RECORD_DTYPE: value, feature_idx,
 * num_threshold, missing_go_to_left, left, right, is_leaf, is_categorical). The learning rate is
 * already in the leaf values. Splits compare float64 X with num_threshold (`x <= t`), so the
 * float32 thresholds are rounded down as for the other trees.
 */
export function convertHistGradientBoosting(
  est: Estimator,
  g: Graph,
  input: string,
  width: number,
): Converted {
  checkWidth(est, width);
  const classifier = est.name.endsWith('Classifier');
  const loss = est.opt('loss');
  if (typeof loss !== 'string' || !(classifier ? LOG_LOSSES : IDENTITY_LOSSES).has(loss))
    est.unsupported('loss', `${String(loss)} (only ${classifier ? 'log_loss' : 'identity-link losses'})`);
  const categorical = est.opt('is_categorical_');
  if (categorical !== undefined && categorical !== null) {
    const flags = est.array('is_categorical_').data;
    if (flags.some((f) => f !== 0))
      est.unsupported('is_categorical_', 'categorical splits are not converted');
  }
  const k = est.int('n_trees_per_iteration_');
  const base = est.vector('_baseline_prediction');
  const baseValues = base.length === 1 ? new Array<number>(k).fill(base[0]!) : base;
  if (baseValues.length !== k)
    est.fail('_baseline_prediction', `has ${base.length} values for ${k} trees per iteration`);
  const e = new Ensemble(g.path, k);
  for (const iteration of est.items('_predictors')) {
    const trees = est.items('_predictors', iteration);
    if (trees.length !== k) est.fail('_predictors', `an iteration has ${trees.length} trees, expected ${k}`);
    trees.forEach((t, target) => {
      const p = est.child('_predictors', t);
      const r = p.records('nodes');
      const f = (name: string) => r.fields.get(name) ?? p.fail('nodes', `no ${name} field`);
      const [value, feature, threshold, missing, left, right, leaf] = [
        f('value'),
        f('feature_idx'),
        f('num_threshold'),
        f('missing_go_to_left'),
        f('left'),
        f('right'),
        f('is_leaf'),
      ];
      const cat = r.fields.get('is_categorical');
      const nodes: TreeNode[] = [];
      for (let i = 0; i < r.length; i++) {
        if (cat && cat[i] === 1 && leaf[i] !== 1)
          p.unsupported('nodes', 'categorical splits are not converted');
        const w = new Array<number>(k).fill(0);
        w[target] = value[i]!;
        nodes.push({
          leaf: leaf[i] === 1,
          feature: feature[i]!,
          threshold: threshold[i]!,
          left: left[i]!,
          right: right[i]!,
          missingLeft: missing[i] === 1,
          weights: leaf[i] === 1 ? w : [],
        });
      }
      e.add(nodes, width, p.name);
    });
  }
  const raw = e.emit(g, input, baseValues);
  if (!classifier) return { kind: 'regressor', out: raw, targets: 1 };
  const classes: Labels = est.labels('classes_');
  if (k === 1) {
    const probabilities = binaryProbabilities(g, g.one('Sigmoid', [raw]));
    return { kind: 'classifier', label: labelOf(g, probabilities, classes), probabilities, classes };
  }
  if (labelCount(classes) !== k)
    est.fail('classes_', `has ${labelCount(classes)} classes for ${k} trees per iteration`);
  const probabilities = g.one('Softmax', [raw], { axis: 1 });
  return { kind: 'classifier', label: labelOf(g, raw, classes), probabilities, classes };
}
