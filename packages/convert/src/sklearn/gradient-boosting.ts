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
import { Ensemble, readTree } from './tree.js';

/** np.finfo(np.float32).eps: sklearn clips the prior with it (_gb_losses.py, get_init_raw_predictions). */
const EPS32 = 2 ** -23;
const clip = (p: number) => Math.min(Math.max(p, EPS32), 1 - EPS32);

/** The raw prediction of init_ (a DummyClassifier/DummyRegressor, or 'zero'). */
function initRaw(est: Estimator, k: number, classifier: boolean): number[] {
  const init = est.get('init_');
  if (init === 'zero') return new Array(k).fill(0);
  const dummy = est.child('init_', init);
  if (!dummy.name.startsWith('Dummy'))
    est.unsupported('init_', `an init estimator ${dummy.name} (only the default prior and 'zero')`);
  if (!classifier) {
    if (
      dummy.opt('strategy') === 'quantile' ||
      dummy.opt('strategy') === 'constant' ||
      dummy.opt('strategy') === 'mean' ||
      dummy.opt('strategy') === 'median'
    )
      return dummy.vector('constant_', 1);
    dummy.unsupported('strategy', String(dummy.opt('strategy')));
  }
  if (dummy.opt('strategy') !== 'prior')
    dummy.unsupported('strategy', `${String(dummy.opt('strategy'))} (only prior)`);
  const prior = dummy.vector('class_prior_');
  if (k === 1) {
    // BinomialDeviance: log(p / (1 - p)) of the positive class.
    const p = clip(prior[1] ?? 0);
    return [Math.log(p / (1 - p))];
  }
  // MultinomialDeviance: log(p) per class.
  return prior.map((p) => Math.log(clip(p)));
}

/** GradientBoostingClassifier/Regressor: init + learning_rate · Σ tree values, then the link. */
export function convertGradientBoosting(est: Estimator, g: Graph, input: string, width: number): Converted {
  checkWidth(est, width);
  const classifier = est.name.endsWith('Classifier');
  const lr = est.num('learning_rate');
  let classes: Labels = {};
  let k = 1;
  if (classifier) {
    classes = est.labels('classes_');
    k = labelCount(classes) === 2 ? 1 : labelCount(classes);
    const loss = est.opt('loss');
    if (loss !== 'log_loss' && loss !== 'deviance')
      est.unsupported('loss', `${String(loss)} (only log_loss)`);
  } else {
    const loss = est.opt('loss');
    if (
      loss !== 'squared_error' &&
      loss !== 'absolute_error' &&
      loss !== 'huber' &&
      loss !== 'quantile' &&
      loss !== 'ls'
    )
      est.unsupported('loss', String(loss));
  }
  const stages = est.items('estimators_');
  if (stages.length % k !== 0) est.fail('estimators_', `has ${stages.length} trees for ${k} per stage`);
  const e = new Ensemble(g.path, k);
  stages.forEach((t, i) => {
    const tree = est.child('estimators_', t);
    const target = i % k;
    e.add(
      readTree(tree, width, (v) => {
        const w = new Array<number>(k).fill(0);
        w[target] = lr * v[0]!;
        return w;
      }),
      width,
      tree.name,
    );
  });
  const raw = e.emit(g, input, initRaw(est, k, classifier));
  if (!classifier) return { kind: 'regressor', out: raw, targets: 1 };
  if (k === 1) {
    const probabilities = binaryProbabilities(g, g.one('Sigmoid', [raw]));
    return { kind: 'classifier', label: labelOf(g, probabilities, classes), probabilities, classes };
  }
  const probabilities = g.one('Softmax', [raw], { axis: 1 });
  return { kind: 'classifier', label: labelOf(g, raw, classes), probabilities, classes };
}
