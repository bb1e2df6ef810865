/**
 * Limits on what an ONNX file controls. Counts of nodes and initializers need no limit of their
 * own: each costs bytes in a file that MAX_ONNX_MODEL_BYTES already bounds, and tensor sizes are
 * checked against the bytes that actually hold them before anything is allocated.
 */

/** protobuf's hard limit on one serialized message; bigger models must use external data (onnx docs, External Data). */
export const MAX_ONNX_MODEL_BYTES = 2 ** 31 - 1;

/** Dimensions of one tensor: NumPy's NPY_MAXDIMS is 64; a longer dims list is hostile (CWE-400). */
export const MAX_ONNX_TENSOR_RANK = 64;

/** Distinct external data files one model may name: each is stat'ed on open (CWE-770). */
export const MAX_ONNX_EXTERNAL_FILES = 100_000;

/** Length of an external data location: PATH_MAX on Linux (CWE-22 checks run on the whole string). */
export const MAX_ONNX_LOCATION_LENGTH = 4096;

/** onnx's external data alignment (onnx.external_data_helper, ALLOCATION_GRANULARITY): 4 KiB pages. */
export const ONNX_EXTERNAL_ALIGNMENT = 4096;

/** Top-level ModelProto fields walked to tell whether a whole file parses as one; real ones have a dozen (CWE-834). */
export const MAX_TOP_LEVEL_FIELDS = 10_000;
