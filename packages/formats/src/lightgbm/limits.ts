/**
 * Every count and size a LightGBM text model controls, with why it is bounded. The file is read
 * whole (LightGBM's own loader does the same), so the size bound comes first.
 */

/** A text model is read into memory whole; the biggest real ones are a few hundred MB (CWE-789). */
export const MAX_LIGHTGBM_MODEL_BYTES = 1024 * 1024 * 1024;
/** Trees per model: num_iterations × classes; a million is far past any real model (CWE-770). */
export const MAX_LIGHTGBM_TREES = 1_000_000;
/** Leaves per tree: LightGBM's own bound on num_leaves (docs/Parameters.rst, "num_leaves <= 131072"). */
export const MAX_LIGHTGBM_LEAVES = 131_072;
/** Input columns (max_feature_idx + 1); sparse text datasets reach millions (CWE-770). */
export const MAX_LIGHTGBM_FEATURES = 16_777_216;
/** num_class; LightGBM keeps one tree per class per iteration (CWE-770). */
export const MAX_LIGHTGBM_CLASSES = 100_000;
/** 32-bit words of categorical bitsets in one tree (cat_threshold); each covers 32 categories (CWE-770). */
export const MAX_LIGHTGBM_CAT_WORDS = 1 << 20;
/** Lines of one `Tree=` block: LightGBM writes at most 22 keys (Tree::Tree reads max_num_line = 22). */
export const MAX_LIGHTGBM_TREE_LINES = 22;
