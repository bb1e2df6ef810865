/**
 * Every bound of the model config schema (config.yaml, and the `serving:` block of ferry.yaml that
 * becomes one), declared once: the server and the bundle validator read the same numbers.
 */

/** Largest batch a config may allow (outputs are split by row; bigger is a typo). CWE-770. */
export const MAX_BATCH_SIZE = 65536;
/** Most model instances per version: each holds a copy of the weights. CWE-770. */
export const MAX_INSTANCES = 64;
/** Most intra-op or inter-op threads one instance may ask for (no machine has more cores). CWE-770. */
export const MAX_THREADS = 1024;
/** Longest a request may wait for a batch to fill: one minute, in microseconds (Triton's knob). */
export const MAX_QUEUE_DELAY_US = 60_000_000;
/** Most requests one version may queue (each holds its tensors in memory). CWE-770. */
export const MAX_QUEUE_SIZE = 1_000_000;
/** Longest default request timeout: one hour, in microseconds. */
export const MAX_DEFAULT_TIMEOUT_US = 3_600_000_000;
/** Preferred batch sizes in one list (a handful is typical; the scheduler scans them per batch). CWE-770. */
export const MAX_PREFERRED_BATCH_SIZES = 64;
/** Largest declared tensor dimension: int32, as ONNX Runtime and libtorch index them. CWE-190. */
export const MAX_DIM = 2 ** 31 - 1;
/** A declared dimension of any size. */
export const ANY_DIM = -1;
/** Most versions a `latest` policy may serve at once. CWE-770. */
export const MAX_LATEST_VERSIONS = 1_000_000;
/** Most warmup runs per instance before a version is ready (each is a full execution). CWE-400. */
export const MAX_WARMUP_RUNS = 1000;
