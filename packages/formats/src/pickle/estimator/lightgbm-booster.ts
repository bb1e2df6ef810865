import { type LgbmModel, parseLightgbmModel } from '../../lightgbm/model.js';
import type { Estimator } from './state.js';

/** A LightGBM Booster from a pickle: its model, and how many iterations predict() uses. */
export interface LgbmBooster {
  readonly model: LgbmModel;
  /** best_iteration when early stopping set one (Booster.predict's default), else every iteration. */
  readonly iterations: number;
}

/**
 * The Booster a pickle holds: `lightgbm.basic.Booster` itself, or an LGBM* estimator's
 * `_Booster`. Its state keeps the model as the text model_to_string() wrote, under `_handle`
 * (LightGBM >= 4.0) or `handle` (2.x, 3.x): the same grammar as a saved model.txt.
 */
export function readLgbmBooster(est: Estimator): LgbmBooster {
  const booster = est.cls === 'lightgbm.basic.Booster' ? est : est.child('_Booster');
  if (booster.cls !== 'lightgbm.basic.Booster')
    est.fail('_Booster', `is a ${booster.cls}, not a LightGBM Booster`);
  const key = booster.has('_handle') ? '_handle' : 'handle';
  // A fitted Booster pickles its model as a str; an unfitted one has None here.
  const text = booster.str(key);
  const model = parseLightgbmModel(text, est.src.path);
  const total = model.trees.length / model.treesPerIteration;
  // 0 (or None from a hand-built Booster) means no early stopping: every iteration.
  const best =
    booster.has('best_iteration') && booster.opt('best_iteration') !== null
      ? booster.int('best_iteration')
      : 0;
  return { model, iterations: best > 0 ? Math.min(best, total) : total };
}
