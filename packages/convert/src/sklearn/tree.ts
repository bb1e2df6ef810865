import { ferryError, type Estimator } from '../formats.js';
import { floorFloat32, type Graph } from './graph.js';
import { type Converted, checkWidth, labelCount, labelOf } from './result.js';

/** Tree nodes in one converted model; ONNX attribute lists beyond this near protobuf's 2 GB cap (CWE-770). */
export const MAX_ENSEMBLE_NODES = 20_000_000;

/** One node: a split (feature, threshold, children) or a leaf with per-target weights. */
export interface TreeNode {
  readonly leaf: boolean;
  readonly feature: number;
  readonly threshold: number;
  readonly left: number;
  readonly right: number;
  /** NaN goes left (sklearn >= 1.3 missing_go_to_left, HistGradientBoosting, XGBoost default_left). */
  readonly missingLeft: boolean;
  readonly weights: readonly number[];
  /** This node's comparison when it differs from the ensemble's (LightGBM's categorical ranges). */
  readonly mode?: 'BRANCH_LEQ' | 'BRANCH_LT' | 'BRANCH_GT';
}

/**
 * Collects trees into one ai.onnx.ml TreeEnsembleRegressor (per-target sums of leaf weights
 * plus base values): every tree family here reduces to that, and the classifier heads are
 * standard ops after it.
 */
export class Ensemble {
  private readonly a = {
    treeIds: [] as number[],
    nodeIds: [] as number[],
    features: [] as number[],
    values: [] as number[],
    modes: [] as string[],
    trues: [] as number[],
    falses: [] as number[],
    missing: [] as number[],
    tTree: [] as number[],
    tNode: [] as number[],
    tIds: [] as number[],
    tWeights: [] as number[],
  };
  private trees = 0;
  private nodes = 0;

  constructor(
    readonly path: string,
    readonly targets: number,
    /** BRANCH_LEQ for sklearn (`x <= t`), BRANCH_LT for XGBoost (`x < t`). */
    readonly mode: 'BRANCH_LEQ' | 'BRANCH_LT' = 'BRANCH_LEQ',
  ) {}

  add(nodes: readonly TreeNode[], width: number, where: string): void {
    const tree = this.trees++;
    this.nodes += nodes.length;
    if (this.nodes > MAX_ENSEMBLE_NODES)
      throw ferryError('FERRY_LIMIT', {
        path: this.path,
        what: 'tree nodes',
        value: this.nodes,
        limit: MAX_ENSEMBLE_NODES,
        reason: 'CWE-770: ONNX attributes near the 2 GB protobuf limit',
      });
    const a = this.a;
    nodes.forEach((n, id) => {
      a.treeIds.push(tree);
      a.nodeIds.push(id);
      if (n.leaf) {
        a.features.push(0);
        a.values.push(0);
        a.modes.push('LEAF');
        a.trues.push(0);
        a.falses.push(0);
        a.missing.push(0);
        n.weights.forEach((w, t) => {
          if (w === 0) return;
          a.tTree.push(tree);
          a.tNode.push(id);
          a.tIds.push(t);
          a.tWeights.push(w);
        });
        return;
      }
      const bad = (what: string) =>
        ferryError('FERRY_SKLEARN_STATE', {
          path: this.path,
          class: where,
          attribute: 'nodes',
          reason: `node ${id}: ${what}`,
        });
      if (!(n.left > 0 && n.left < nodes.length && n.right > 0 && n.right < nodes.length))
        throw bad('child out of range');
      if (!(n.feature >= 0 && n.feature < width && Number.isInteger(n.feature)))
        throw bad(`feature ${n.feature} outside the ${width} input columns`);
      const mode = n.mode ?? this.mode;
      a.features.push(n.feature);
      // x <= t and x > t (t a double, x a float32) test the largest float32 <= t.
      a.values.push(mode === 'BRANCH_LT' ? Math.fround(n.threshold) : floorFloat32(n.threshold));
      a.modes.push(mode);
      a.trues.push(n.left);
      a.falses.push(n.right);
      a.missing.push(n.missingLeft ? 1 : 0);
    });
  }

  /** The raw scores [N, targets]: Σ leaf weights + base. */
  emit(g: Graph, input: string, base: readonly number[]): string {
    const a = this.a;
    return g.ml(
      'TreeEnsembleRegressor',
      [input],
      {
        n_targets: this.targets,
        aggregate_function: 'SUM',
        post_transform: 'NONE',
        base_values: { floats: [...base] },
        nodes_treeids: { ints: a.treeIds },
        nodes_nodeids: { ints: a.nodeIds },
        nodes_featureids: { ints: a.features },
        nodes_values: { floats: a.values },
        nodes_modes: a.modes.length > 0 ? a.modes : undefined,
        nodes_truenodeids: { ints: a.trues },
        nodes_falsenodeids: { ints: a.falses },
        nodes_missing_value_tracks_true: { ints: a.missing },
        target_treeids: { ints: a.tTree },
        target_nodeids: { ints: a.tNode },
        target_ids: { ints: a.tIds },
        target_weights: { floats: a.tWeights },
      },
      this.targets,
    );
  }

  get count(): number {
    return this.trees;
  }
}

/**
 * A fitted sklearn.tree._tree.Tree: `Tree(n_features, n_classes, n_outputs)` rebuilt with
 * {max_depth, node_count, nodes, values}. nodes is NODE_DTYPE, read by field name: sklearn 1.2
 * has left_child, right_child, feature, threshold, impurity, n_node_samples,
 * weighted_n_node_samples; 1.3 adds missing_go_to_left.
 */
export function readTree(est: Estimator, width: number, leaf: (values: number[]) => number[]): TreeNode[] {
  checkWidth(est, width);
  const tree = est.child('tree_');
  const nodes = tree.records('nodes');
  const values = tree.array('values');
  const count = nodes.length;
  if (tree.has('node_count') && tree.int('node_count') !== count)
    tree.fail('node_count', `is ${tree.int('node_count')}, nodes holds ${count}`);
  const field = (name: string) => nodes.fields.get(name) ?? tree.fail('nodes', `no ${name} field`);
  const [left, right, feature, threshold] = ['left_child', 'right_child', 'feature', 'threshold'].map(
    field,
  ) as [Float64Array, Float64Array, Float64Array, Float64Array];
  const missing = nodes.fields.get('missing_go_to_left');
  if (count === 0 || values.data.length % count !== 0)
    tree.fail('values', `has ${values.data.length} values for ${count} nodes`);
  const per = values.data.length / count;
  if (values.shape.length === 3 && values.shape[1] !== 1)
    est.unsupported('n_outputs_', 'multi-output trees are not converted');
  const out: TreeNode[] = [];
  for (let i = 0; i < count; i++) {
    const isLeaf = left[i] === -1;
    out.push({
      leaf: isLeaf,
      feature: feature[i]!,
      threshold: threshold[i]!,
      left: left[i]!,
      right: right[i]!,
      missingLeft: missing ? missing[i] === 1 : false,
      weights: isLeaf ? leaf(values.data.slice(i * per, (i + 1) * per)) : [],
    });
  }
  return out;
}

const normalise = (v: number[]): number[] => {
  const sum = v.reduce((a, b) => a + b, 0);
  return sum > 0 ? v.map((x) => x / sum) : v;
};

/** DecisionTree, RandomForest, ExtraTrees: one tree or the mean of many. */
export function convertForest(est: Estimator, g: Graph, input: string, width: number): Converted {
  const single = est.name.startsWith('DecisionTree');
  const trees = single ? [est] : est.items('estimators_').map((t) => est.child('estimators_', t));
  if (trees.length === 0) est.fail('estimators_', 'is empty');
  const n = trees.length;
  if (est.name.endsWith('Classifier')) {
    const classes = est.labels('classes_');
    const k = labelCount(classes);
    const e = new Ensemble(g.path, k);
    // predict_proba: the mean over trees of each leaf's class fractions (ForestClassifier).
    for (const t of trees)
      e.add(
        readTree(t, width, (v) => {
          if (v.length !== k) t.fail('tree_.values', `has ${v.length} classes, the forest ${k}`);
          return normalise(v).map((x) => x / n);
        }),
        width,
        t.name,
      );
    const probabilities = e.emit(g, input, new Array(k).fill(0));
    return { kind: 'classifier', label: labelOf(g, probabilities, classes), probabilities, classes };
  }
  const e = new Ensemble(g.path, 1);
  for (const t of trees)
    e.add(
      readTree(t, width, (v) => [v[0]! / n]),
      width,
      t.name,
    );
  return { kind: 'regressor', out: e.emit(g, input, [0]), targets: 1 };
}
