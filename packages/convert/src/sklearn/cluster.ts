import type { Graph } from './graph.js';
import { type Converted, checkWidth } from './result.js';
import type { Estimator } from '../formats.js';

/** Euclidean distances [N, M] from each row of x [N, F] to each row of `points` [M, F]. */
export function distances(g: Graph, input: string, points: number[], m: number, width: number): string {
  const x = g.one('Unsqueeze', [input, g.int64s([1])]);
  const p = g.floats(points, [1, m, width]);
  const diff = g.one('Sub', [x, p]);
  return g.one('Sqrt', [g.one('ReduceSumSquare', [diff], { axes: [2], keepdims: 0 })]);
}

/** KMeans: transform = distances to cluster_centers_, predict = the nearest centre. */
export function convertKMeans(est: Estimator, g: Graph, input: string, width: number): Converted {
  checkWidth(est, width);
  const centres = est.array('cluster_centers_');
  const k = centres.shape[0] ?? 0;
  if (k === 0 || centres.data.length !== k * width)
    est.fail('cluster_centers_', `has shape [${centres.shape}] for ${width} columns`);
  const scores = distances(g, input, centres.data, k, width);
  const label = g.one('ArgMin', [scores], { axis: 1, keepdims: 0 });
  return { kind: 'cluster', label, scores, clusters: k };
}
