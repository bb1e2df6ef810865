/**
 * Every size a client or a repository controls, with the reason for its bound.
 * Requests are untrusted input: each limit keeps one request from exhausting memory (CWE-770).
 */

/** Largest request body, JSON or binary (a 128 x 1024 x 1024 fp32 batch is 512 MiB; one request stays far below). */
export const MAX_BODY_BYTES = 256 * 2 ** 20;

/**
 * HTTP/2 receive window of a gRPC connection and of each stream on it: how many request bytes a
 * client may send before the server has read them. Node's default is 64 KiB, which 16 concurrent
 * 4 KiB requests fill, so a client with 64 in flight waited a WINDOW_UPDATE round trip through the
 * busy event loop and batches formed at half their size (grpc/grpc-node#3058; grpc-java's netty
 * server opens 1 MiB). Bounds the bytes one connection can buffer unread.
 */
export const GRPC_WINDOW_BYTES = 4 * 2 ** 20;
/** Largest JSON header in front of binary tensor data (Inference-Header-Content-Length). */
export const MAX_JSON_HEADER_BYTES = 16 * 2 ** 20;
/** Most inputs or requested outputs in one request (models with more are not served). CWE-770. */
export const MAX_TENSORS_PER_REQUEST = 1024;
/** Highest tensor rank a request may declare (ONNX Runtime itself caps shapes far below). CWE-1284. */
export const MAX_RANK = 32;
/** Most elements in one tensor: 2^31 - 1 keeps every index a safe int32 for typed arrays. CWE-190. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;
/** Nesting depth of a JSON `data` array (one level per dimension, plus slack). CWE-674. */
export const MAX_JSON_DATA_DEPTH = MAX_RANK;
/** Longest single BYTES element (the protocol's 4-byte length prefix). */
export const MAX_BYTES_ELEMENT = 2 ** 32 - 1;
/** Largest config.yaml (a config is a few hundred bytes; YAML bombs need size). CWE-776. */
export const MAX_CONFIG_BYTES = 64 * 1024;
/** Most models in one repository and versions per model scanned (a runaway folder is a mistake). */
export const MAX_MODELS = 1024;
export const MAX_VERSIONS = 1024;
/** Most requests waiting per model version when config sets no max_queue_size. */
export const DEFAULT_MAX_QUEUE_SIZE = 1024;
/** max_batch_size used when a model has a dynamic first dimension everywhere and no config. */
export const DEFAULT_MAX_BATCH_SIZE = 32;
/** Most model instances (ONNX Runtime sessions) per version: each holds a copy of the weights. */
export const MAX_INSTANCES = 64;
/** Largest batch a config may allow (outputs are split by row; bigger is a typo). */
export const MAX_BATCH_SIZE_LIMIT = 65536;
/** Most files digested for one converted model's source (a SavedModel is a .pb and a few shards). CWE-400. */
export const MAX_SOURCE_FILES = 10_000;
/** Deepest folder nesting walked when digesting a converted model's source (symlink loops). CWE-674. */
export const MAX_SOURCE_DEPTH = 16;
/** Most entry points (SavedModel signatures) served from one model folder. */
export const MAX_ENTRIES = 256;
