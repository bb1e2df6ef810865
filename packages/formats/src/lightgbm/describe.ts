import type { LgbmModel } from './model.js';
import { CATEGORICAL_MASK } from './tree.js';

/** Facts for `inspect`: what the model predicts, from what, with how many trees. */
export function describeLightgbm(m: LgbmModel): Record<string, unknown> {
  let leaves = 0;
  let categorical = 0;
  let linear = 0;
  for (const t of m.trees) {
    leaves += t.numLeaves;
    categorical += t.decisionType.filter((d) => d & CATEGORICAL_MASK).length;
    if (t.linear) linear++;
  }
  return {
    version: m.version,
    objective: m.objective?.text ?? '(custom: raw scores)',
    num_class: m.numClass,
    trees: m.trees.length,
    iterations: m.trees.length / m.treesPerIteration,
    leaves,
    features: m.features,
    feature_names: m.featureNames,
    ...(categorical > 0 && { categorical_splits: categorical }),
    ...(linear > 0 && { linear_trees: linear }),
    ...(m.averageOutput && { average_output: true }),
  };
}

/** One line: `objective=binary sigmoid:1 n_features=4 n_trees=20 n_classes=1`. */
export function summariseLightgbm(m: LgbmModel): string {
  return `objective=${m.objective?.text ?? 'custom'} n_features=${m.features} n_trees=${m.trees.length}${m.numClass > 1 ? ` n_classes=${m.numClass}` : ''}`;
}
