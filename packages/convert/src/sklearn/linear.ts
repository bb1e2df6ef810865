import type { Graph } from './graph.js';
import { binaryProbabilities, type Converted, checkWidth, labelCount, labelOf } from './result.js';
import type { Estimator } from '../formats.js';

export const LINEAR_REGRESSORS = new Set([
  'LinearRegression',
  'Ridge',
  'RidgeCV',
  'Lasso',
  'LassoCV',
  'ElasticNet',
  'ElasticNetCV',
  'SGDRegressor',
  'LinearSVR',
  'BayesianRidge',
  'ARDRegression',
  'HuberRegressor',
]);
export const LINEAR_CLASSIFIERS = new Set([
  'LogisticRegression',
  'LogisticRegressionCV',
  'SGDClassifier',
  'LinearSVC',
  'RidgeClassifier',
]);

/** coef_ as rows [targets][width] and intercept_ per target (0 when fit_intercept is off). */
function weights(est: Estimator, width: number): { coef: number[]; intercept: number[]; targets: number } {
  const coef = est.array('coef_');
  if (coef.data.length % width !== 0 || coef.data.length === 0)
    est.fail('coef_', `has ${coef.data.length} values, not a multiple of the ${width} input columns`);
  const targets = coef.data.length / width;
  const raw = est.opt('intercept_');
  const intercept = raw === undefined ? new Array<number>(targets).fill(0) : est.vector('intercept_');
  if (intercept.length === 1 && targets > 1)
    return { coef: coef.data, intercept: new Array(targets).fill(intercept[0]), targets };
  if (intercept.length !== targets)
    est.fail('intercept_', `has ${intercept.length} values for ${targets} targets`);
  return { coef: coef.data, intercept, targets };
}

/** decision_function: LinearRegressor computes X·coefᵀ + intercept for every target. */
function decision(est: Estimator, g: Graph, input: string, width: number) {
  checkWidth(est, width);
  const { coef, intercept, targets } = weights(est, width);
  const out = g.ml(
    'LinearRegressor',
    [input],
    {
      coefficients: { floats: coef },
      intercepts: { floats: intercept },
      targets,
      post_transform: 'NONE',
    },
    targets,
  );
  return { out, targets };
}

/**
 * The decision function in double: exp and the sigmoid amplify float32's rounding of large
 * coefficients (an unscaled SGDClassifier has decision values in the thousands), so
 * probabilities are computed from X (float32, exact in double) · coefᵀ + intercept in float64,
 * as sklearn does, and cast to float at the end.
 */
function decisionDouble(est: Estimator, g: Graph, input: string, width: number) {
  checkWidth(est, width);
  const { coef, intercept, targets } = weights(est, width);
  const t = new Array<number>(coef.length);
  for (let r = 0; r < targets; r++) for (let c = 0; c < width; c++) t[c * targets + r] = coef[r * width + c]!;
  const x = g.one('Cast', [input], { to: 11 });
  const out = g.one('Add', [
    g.one('MatMul', [x, g.doubles(t, [width, targets])]),
    g.doubles(intercept, [1, targets]),
  ]);
  return { out, targets };
}

/** 1 / (1 + exp(-x)) in double: ONNX Runtime's double Sigmoid is a float-precision approximation. */
function sigmoid64(g: Graph, x: string): string {
  const e = g.one('Exp', [g.one('Neg', [x])]);
  return g.one('Reciprocal', [g.one('Add', [e, g.doubles([1], [])])]);
}

export function convertLinearRegressor(est: Estimator, g: Graph, input: string, width: number): Converted {
  const { out, targets } = decision(est, g, input, width);
  return { kind: 'regressor', out, targets };
}

/** Which probabilities predict_proba gives, or none (hinge losses, LinearSVC). */
function probabilityKind(est: Estimator, classes: number): 'softmax' | 'ovr' | undefined {
  if (est.name === 'LinearSVC' || est.name === 'RidgeClassifier') return undefined;
  if (est.name === 'SGDClassifier') {
    const loss = est.str('loss');
    if (loss === 'log_loss' || loss === 'log') return 'ovr';
    if (loss === 'modified_huber') est.unsupported('loss', 'modified_huber probabilities are not converted');
    return undefined;
  }
  // LogisticRegression (sklearn/linear_model/_logistic.py, predict_proba): 'ovr' when asked for,
  // or 'auto' with liblinear or two classes; multinomial softmax otherwise.
  const multi = est.opt('multi_class');
  const solver = est.opt('solver');
  if (classes <= 2) return 'softmax';
  if (multi === 'ovr' || (multi === 'auto' && solver === 'liblinear')) return 'ovr';
  return 'softmax';
}

export function convertLinearClassifier(est: Estimator, g: Graph, input: string, width: number): Converted {
  const classes = est.labels('classes_');
  const k = labelCount(classes);
  const { out: scores64, targets } = decisionDouble(est, g, input, width);
  const scores = g.one('Cast', [scores64], { to: 1 });
  const binary = k === 2 && targets === 1;
  if (!binary && targets !== k) est.fail('coef_', `has ${targets} rows for ${k} classes`);
  const kind = probabilityKind(est, k);
  if (binary) {
    // predict: classes_[scores > 0] (LinearClassifierMixin.predict).
    const positive = g.one('Greater', [scores64, g.doubles([0], [])]);
    const index = g.one('Cast', [g.one('Squeeze', [positive, g.int64s([1])])], { to: 7 });
    const table = classes.strings ? g.strings(classes.strings) : g.int64s(classes.ints ?? []);
    const label = g.one('Gather', [table, index], { axis: 0 });
    if (!kind) return { kind: 'classifier', label, scores, classes };
    const probabilities = binaryProbabilities(g, g.one('Cast', [sigmoid64(g, scores64)], { to: 1 }));
    return { kind: 'classifier', label, probabilities, classes };
  }
  const label = labelOf(g, scores64, classes);
  if (!kind) return { kind: 'classifier', label, scores, classes };
  if (kind === 'softmax') {
    const probabilities = g.one('Cast', [g.one('Softmax', [scores64], { axis: 1 })], { to: 1 });
    return { kind: 'classifier', label, probabilities, classes };
  }
  // One-vs-rest: sigmoid per class, normalised to sum to 1 (_predict_proba_lr). In double:
  // with large decision values every float32 sigmoid can underflow to 0.
  const p = sigmoid64(g, scores64);
  const sum = g.one('ReduceSum', [p, g.int64s([1])], { keepdims: 1 });
  const probabilities = g.one('Cast', [g.one('Div', [p, sum])], { to: 1 });
  return { kind: 'classifier', label, probabilities, classes };
}
