/**
 * LightGBM's picklable classes that rebuild data, never code (python-package/lightgbm, 2.x to
 * 4.x, read at microsoft/LightGBM v2.3.1, v3.3.5, v4.6.0 and master):
 *
 * - `lightgbm.basic.Booster`: `__getstate__` replaces the C handle by the model as text
 *   (`model_to_string()`), under `handle` up to 3.x and `_handle` from 4.0; `__setstate__` hands
 *   that text to LGBM_BoosterLoadModelFromString, a parser of numbers and names (the grammar
 *   ferry reads in formats/src/lightgbm), and updates `__dict__` with plain values.
 * - `lightgbm.basic._InnerPredictor`: kept in a Booster's state after training from an
 *   init_model; its `__getstate__` drops the handle and it has no `__setstate__`.
 * - `lightgbm.sklearn.LGBMModel` and its `LGBMClassifier`, `LGBMRegressor`, `LGBMRanker`:
 *   scikit-learn estimators (BaseEstimator's `__setstate__` updates `__dict__`) whose state is
 *   hyper-parameters, `_Booster`, `_classes`, `_n_features`, and sklearn's LabelEncoder (`_le`).
 *
 * Not here, so still findings: `_ObjectiveFunctionWrapper` / `_EvalFunctionWrapper` (they wrap
 * a user's Python callable, which the pickle names as code) and the Dask estimators.
 * Exact `module.Class` names under the module that defines each (allowlist.ts).
 */
export const LIGHTGBM_CLASSES: ReadonlySet<string> = new Set([
  'lightgbm.basic.Booster',
  'lightgbm.basic._InnerPredictor',
  'lightgbm.sklearn.LGBMModel',
  'lightgbm.sklearn.LGBMClassifier',
  'lightgbm.sklearn.LGBMRegressor',
  'lightgbm.sklearn.LGBMRanker',
]);
