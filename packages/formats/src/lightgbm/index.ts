export { describeLightgbm, summariseLightgbm } from './describe.js';
export { lightgbmHandler } from './handler.js';
export {
  MAX_LIGHTGBM_CAT_WORDS,
  MAX_LIGHTGBM_CLASSES,
  MAX_LIGHTGBM_FEATURES,
  MAX_LIGHTGBM_LEAVES,
  MAX_LIGHTGBM_MODEL_BYTES,
  MAX_LIGHTGBM_TREE_LINES,
  MAX_LIGHTGBM_TREES,
} from './limits.js';
export { type LgbmModel, parseLightgbmModel } from './model.js';
export { type LgbmObjective, parseObjective } from './objective.js';
export { looksLikeLightgbm, readLightgbmFile } from './read.js';
export {
  CATEGORICAL_MASK,
  DEFAULT_LEFT_MASK,
  type LgbmTree,
  MISSING_NAN,
  MISSING_NONE,
  MISSING_ZERO,
} from './tree.js';
