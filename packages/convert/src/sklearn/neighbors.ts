import { distances } from './cluster.js';
import type { Graph } from './graph.js';
import { type Converted, checkWidth, labelCount, labelOf } from './result.js';
import type { Estimator } from '../formats.js';

/**
 * KNeighborsClassifier/Regressor with the Euclidean metric: the k nearest training rows
 * (TopK on distances to `_fit_X`, which the graph holds), then the vote or mean of `_y`,
 * uniform or 1/distance weighted (a row at distance 0 takes all the weight, as
 * sklearn.neighbors._base._get_weights does). Equal distances may order neighbours
 * differently from sklearn's tree search; the vote is the same unless their labels differ.
 */
export function convertKNeighbors(est: Estimator, g: Graph, input: string, width: number): Converted {
  checkWidth(est, width);
  const metric = est.opt('effective_metric_') ?? est.opt('metric');
  const p = est.opt('p');
  if (!(metric === 'euclidean' || (metric === 'minkowski' && (p === 2 || p === undefined))))
    est.unsupported('effective_metric_', `${String(metric)} (only euclidean)`);
  const weighting = est.get('weights');
  if (weighting !== 'uniform' && weighting !== 'distance')
    est.unsupported('weights', 'a callable or unknown weighting');
  const fit = est.array('_fit_X');
  const m = fit.shape[0] ?? 0;
  if (fit.data.length !== m * width) est.fail('_fit_X', `has shape [${fit.shape}] for ${width} columns`);
  const k = est.int('n_neighbors');
  if (k < 1 || k > m) est.fail('n_neighbors', `is ${k} with ${m} training rows`);
  const d = distances(g, input, fit.data, m, width);
  const [near, index] = g.op('TopK', [d, g.int64s([k])], { axis: 1, largest: 0, sorted: 1 }, '', 2);
  let w: string | undefined;
  if (weighting === 'distance') {
    const inv = g.one('Reciprocal', [near!]);
    const inf = g.one('IsInf', [inv]);
    const anyInf = g.one('ReduceMax', [g.one('Cast', [inf], { to: 1 })], { axes: [1], keepdims: 1 });
    const hasInf = g.one('Greater', [anyInf, g.floats([0], [])]);
    w = g.one('Where', [hasInf, g.one('Cast', [inf], { to: 1 }), inv]);
  }
  const y = est.array('_y');
  if (y.data.length !== m) est.unsupported('_y', 'multi-output neighbours are not converted');
  if (est.name === 'KNeighborsRegressor') {
    const values = g.one('Gather', [g.floats(y.data), index!], { axis: 0 });
    const axes = g.int64s([1]);
    const out = w
      ? g.one('Div', [
          g.one('ReduceSum', [g.one('Mul', [values, w]), axes], { keepdims: 1 }),
          g.one('ReduceSum', [w, axes], { keepdims: 1 }),
        ])
      : g.one('ReduceMean', [values], { axes: [1], keepdims: 1 });
    return { kind: 'regressor', out, targets: 1 };
  }
  const classes = est.labels('classes_');
  const c = labelCount(classes);
  // _y holds class indices (LabelEncoder codes) for a classifier.
  const codes = g.one('Gather', [g.int64s(y.data), index!], { axis: 0 });
  const hot = g.one('OneHot', [codes, g.int64s([c], []), g.floats([0, 1])], { axis: -1 });
  const weighted = w ? g.one('Mul', [hot, g.one('Unsqueeze', [w, g.int64s([2])])]) : hot;
  const votes = g.one('ReduceSum', [weighted, g.int64s([1])], { keepdims: 0 });
  const total = g.one('ReduceSum', [votes, g.int64s([1])], { keepdims: 1 });
  const probabilities = g.one('Div', [votes, total]);
  return { kind: 'classifier', label: labelOf(g, votes, classes), probabilities, classes };
}
