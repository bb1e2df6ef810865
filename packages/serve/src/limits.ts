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
/** Most files digested for one converted model's source (a SavedModel is a .pb and a few shards). CWE-400. */
export const MAX_SOURCE_FILES = 10_000;
/** Deepest folder nesting walked when digesting a converted model's source (symlink loops). CWE-674. */
export const MAX_SOURCE_DEPTH = 16;
/** Most entry points (SavedModel signatures) served from one model folder. */
export const MAX_ENTRIES = 256;

// --- the server under abuse (issue #24 items 8-9): time, connections and memory per client ---

/** Time for a client to send its request headers: a slowloris client trickling them is cut (CWE-400). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Time to receive a whole request, headers and body (not its execution): a trickled body is cut (CWE-400). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** How long an idle keep-alive connection stays open between requests (CWE-400). */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Most open HTTP connections (and, separately, gRPC connections): each costs a socket and buffers (CWE-770). */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Request body bytes held across all requests at once; past it new requests get 503 (CWE-770). */
export const DEFAULT_MAX_INFLIGHT_BYTES = 512 * 2 ** 20;
/** How long SIGTERM / close() lets running requests finish before connections are cut. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
/** Bound for a variable (-1) non-batch input dimension when deriving a model's body limit. CWE-770. */
export const DEFAULT_MAX_VARIABLE_DIM = 65_536;
/**
 * Largest JSON document a request may carry (a plain JSON body, or the JSON header in front of
 * binary data): JSON.parse runs on the event loop, about 5 ms per MiB, so this keeps one parse
 * near 80 ms and health probes answering (issue #24: a 250 MB body blocked /v2/health/live 15 s).
 * Larger tensors travel as binary data. CWE-400.
 */
export const MAX_JSON_BODY_BYTES = MAX_JSON_HEADER_BYTES;
/**
 * Text one JSON tensor element may take: a float64 in shortest form is up to 24 characters
 * ("-2.2250738585072014e-308") plus a separator, and pretty-printers add indentation.
 */
export const JSON_BYTES_PER_ELEMENT = 32;
/** Bytes allowed on top of a model's tensors: names, parameters, the outputs list, the request id. */
export const BODY_HEADROOM_BYTES = 2 ** 20;
/** Seconds a client is told to wait (Retry-After) when the in-flight byte budget is full. */
export const BUSY_RETRY_AFTER_S = 1;
/** gRPC: a connection with no calls for this long is closed with GOAWAY (clients reconnect transparently). */
export const GRPC_MAX_CONNECTION_IDLE_MS = 300_000;
/** gRPC: most concurrent calls on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). CWE-770. */
export const GRPC_MAX_CONCURRENT_STREAMS = 1024;
