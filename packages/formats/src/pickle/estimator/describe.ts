import { isNode, type PickleValue } from '../values.js';
import { classOf, Estimator } from './state.js';
import { summariseLightgbm } from '../../lightgbm/describe.js';
import { readLgbmBooster } from './lightgbm-booster.js';
import { boosterBytes, readXgbModel } from './xgboost-model.js';

/** Estimators listed per file (a forest lists its trees by count, not one by one). */
export const MAX_DESCRIBED_ESTIMATORS = 200;

function safe<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch {
    return undefined;
  }
}

/** One line per estimator: class, classes, features, estimators; pipeline steps indented. */
export function describeEstimator(root: Estimator): string[] {
  const lines: string[] = [];
  const visit = (est: Estimator, label: string, depth: number) => {
    if (lines.length >= MAX_DESCRIBED_ESTIMATORS || depth > 16) return;
    const parts = [`${'  '.repeat(depth)}${label}${est.name}`];
    // LightGBM's classifiers keep them as `_classes` (sklearn.py; classes_ is a property).
    const classes = safe(() => est.labels('classes_')) ?? safe(() => est.labels('_classes'));
    if (classes) {
      const list = (classes.ints ?? classes.strings ?? []).map(String);
      parts.push(`classes=[${list.slice(0, 10).join(', ')}${list.length > 10 ? ', ...' : ''}]`);
    }
    const features = safe(() => est.int('n_features_in_'));
    if (features !== undefined) parts.push(`n_features=${features}`);
    const trees =
      safe(() => est.int('n_estimators_')) ??
      safe(() => est.items('estimators_').length) ??
      safe(() => est.items('_predictors').length);
    if (trees !== undefined) parts.push(`n_estimators=${trees}`);
    const objective = est.opt('objective');
    if (typeof objective === 'string') parts.push(`objective=${objective}`);
    if (est.name === 'XGBClassifier' || est.name === 'XGBRegressor') {
      const m = safe(() => readXgbModel(boosterBytes(est), est.src.path));
      if (m) parts.push(`n_features=${m.features} n_trees=${m.trees}`);
    }
    if (est.cls.startsWith('lightgbm.')) {
      const b = safe(() => readLgbmBooster(est));
      if (b)
        parts.push(
          summariseLightgbm(b.model) +
            (b.iterations * b.model.treesPerIteration < b.model.trees.length
              ? ` best_iteration=${b.iterations}`
              : ''),
        );
    }
    if (est.has('n_clusters')) parts.push(`n_clusters=${String(est.opt('n_clusters'))}`);
    if (est.has('n_neighbors')) parts.push(`n_neighbors=${String(est.opt('n_neighbors'))}`);
    lines.push(parts.join(' '));
    const steps = est.name === 'Pipeline' ? safe(() => est.items('steps')) : undefined;
    steps?.forEach((s) => {
      const pair = safe(() => est.items('steps', s)) ?? [];
      const child = pair[1] ?? null;
      const name = typeof pair[0] === 'string' ? `${pair[0]}: ` : '';
      if (isObject(child)) visit(new Estimator(est.src, child), name, depth + 1);
      else lines.push(`${'  '.repeat(depth + 1)}${name}${String(child)}`);
    });
    const transformers =
      est.name === 'ColumnTransformer' ? safe(() => est.items('transformers_')) : undefined;
    transformers?.forEach((t) => {
      const triple = safe(() => est.items('transformers_', t)) ?? [];
      const child = triple[1] ?? null;
      const name = typeof triple[0] === 'string' ? `${triple[0]}: ` : '';
      if (isObject(child)) visit(new Estimator(est.src, child), name, depth + 1);
      else lines.push(`${'  '.repeat(depth + 1)}${name}${String(child)}`);
    });
  };
  visit(root, '', 0);
  return lines;
}

function isObject(v: PickleValue): v is Extract<PickleValue, { kind: 'call' }> {
  return isNode(v) && v.kind === 'call' && classOf(v) !== undefined;
}
