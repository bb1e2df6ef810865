import { convertKMeans } from './cluster.js';
import { convertGradientBoosting } from './gradient-boosting.js';
import type { Graph } from './graph.js';
import { convertHistGradientBoosting } from './hist-gradient-boosting.js';
import {
  convertLinearClassifier,
  convertLinearRegressor,
  LINEAR_CLASSIFIERS,
  LINEAR_REGRESSORS,
} from './linear.js';
import { convertKNeighbors } from './neighbors.js';
import { convertColumnTransformer, convertPipeline } from './pipeline.js';
import {
  convertImputer,
  convertNormalizer,
  convertOneHot,
  convertPca,
  convertPolynomial,
  convertScaler,
} from './preprocessing.js';
import type { Converted, StepConverter } from './result.js';
import type { Estimator } from '../formats.js';
import { convertForest } from './tree.js';
import { convertLgbmEstimator } from './lightgbm.js';
import { convertXgbEstimator } from './xgboost.js';

/** Converters by class name (the module must be sklearn's, xgboost's or lightgbm's). */
export const CONVERTERS: ReadonlyMap<string, StepConverter> = new Map<string, StepConverter>([
  ...[...LINEAR_REGRESSORS].map((n) => [n, convertLinearRegressor] as const),
  ...[...LINEAR_CLASSIFIERS].map((n) => [n, convertLinearClassifier] as const),
  ...[
    'DecisionTreeClassifier',
    'DecisionTreeRegressor',
    'ExtraTreeClassifier',
    'ExtraTreeRegressor',
    'RandomForestClassifier',
    'RandomForestRegressor',
    'ExtraTreesClassifier',
    'ExtraTreesRegressor',
  ].map((n) => [n, convertForest] as const),
  ['GradientBoostingClassifier', convertGradientBoosting],
  ['GradientBoostingRegressor', convertGradientBoosting],
  ['HistGradientBoostingClassifier', convertHistGradientBoosting],
  ['HistGradientBoostingRegressor', convertHistGradientBoosting],
  ['StandardScaler', convertScaler],
  ['MinMaxScaler', convertScaler],
  ['MaxAbsScaler', convertScaler],
  ['RobustScaler', convertScaler],
  ['Normalizer', convertNormalizer],
  ['SimpleImputer', convertImputer],
  ['OneHotEncoder', convertOneHot],
  ['PolynomialFeatures', convertPolynomial],
  ['PCA', convertPca],
  ['Pipeline', convertPipeline],
  ['ColumnTransformer', convertColumnTransformer],
  ['KMeans', convertKMeans],
  ['KNeighborsClassifier', convertKNeighbors],
  ['KNeighborsRegressor', convertKNeighbors],
  ['XGBClassifier', convertXgbEstimator],
  ['XGBRegressor', convertXgbEstimator],
  ['LGBMClassifier', convertLgbmEstimator],
  ['LGBMRegressor', convertLgbmEstimator],
  ['LGBMRanker', convertLgbmEstimator],
  // lightgbm.basic.Booster only: convertLgbmEstimator refuses xgboost.core.Booster by its module.
  ['Booster', convertLgbmEstimator],
]);

export function convertStep(est: Estimator, g: Graph, input: string, width: number): Converted {
  const module = est.cls.slice(0, est.cls.lastIndexOf('.'));
  const ours =
    module === 'sklearn' ||
    module.startsWith('sklearn.') ||
    module.startsWith('xgboost.') ||
    module.startsWith('lightgbm.');
  const converter = ours ? CONVERTERS.get(est.name) : undefined;
  if (!converter) est.unsupported('(class)', `${est.cls} has no ONNX conversion in ferry`);
  return converter(est, g, input, width);
}
