import type { Graph } from './graph.js';
import type { Estimator } from '../formats.js';

export interface Labels {
  readonly ints?: number[];
  readonly strings?: string[];
}

/** What one converted estimator leaves in the graph. */
export type Converted =
  | { kind: 'transformer'; out: string; width: number }
  | { kind: 'regressor'; out: string; targets: number }
  | { kind: 'classifier'; label: string; probabilities?: string; scores?: string; classes: Labels }
  | { kind: 'cluster'; label: string; scores: string; clusters: number };

/** Converts one estimator whose input is `input`, a float tensor [N, width]. */
export type StepConverter = (est: Estimator, g: Graph, input: string, width: number) => Converted;

export const labelCount = (l: Labels): number => (l.ints ?? l.strings ?? []).length;

/** classes_[argmax(scores, axis 1)]: the label sklearn's predict gives (first index on ties, as NumPy). */
export function labelOf(g: Graph, scores: string, classes: Labels): string {
  const index = g.one('ArgMax', [scores], { axis: 1, keepdims: 0 });
  const table = classes.strings ? g.strings(classes.strings) : g.int64s(classes.ints ?? []);
  return g.one('Gather', [table, index], { axis: 0 });
}

/** [1 - p, p] from a [N, 1] positive-class probability. */
export function binaryProbabilities(g: Graph, p: string): string {
  const one = g.floats([1], []);
  const q = g.one('Sub', [one, p]);
  return g.one('Concat', [q, p], { axis: 1 });
}

/** The width an estimator was fitted on, when it recorded one. */
export function featuresIn(est: Estimator): number | undefined {
  return est.has('n_features_in_') ? est.int('n_features_in_') : undefined;
}

export function checkWidth(est: Estimator, width: number): void {
  const n = featuresIn(est);
  if (n !== undefined && n !== width)
    est.fail('n_features_in_', `is ${n}, but its input has ${width} columns`);
}
