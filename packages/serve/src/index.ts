/**
 * @ferry/serve: an Open Inference Protocol v2 server (REST + gRPC) with dynamic batching.
 * Public API only; everything else is internal.
 */

export { isServeError, SERVE_ERRORS, serveError } from './errors.js';

// ServeMetrics: the UI's tests scrape the real /metrics exposition it writes
export { ServeMetrics } from './metrics.js';
export { PROTO_OPTIONS, PROTO_PATH } from './protocol/proto-path.js';
export { parseModelConfig } from './repository/config.js';
export type { ModelControlMode } from './repository/repository.js';
export { type DeploymentSpec, deploymentName } from './repository/registry-source.js';
export type { RunningServer } from './server.js';
export { startServer } from './start-server.js';
export { DEFAULT_SERVER_LIMITS, type ServerLimits } from './server-limits.js';
// HTTP/2 framing and HPACK: the lean gRPC front's, and the bench's load client's
export {
  CLIENT_PREFACE,
  DEFAULT_WINDOW,
  ERROR_NAMES,
  type ErrorName,
  errorCode,
  errorName,
  FLAG,
  FRAME,
  FRAME_HEADER_BYTES,
  FrameReader,
  frame,
  frameSizeError,
  H2ConnectionError,
  MAX_MAX_FRAME_BYTES,
  MAX_STREAM_ID,
  MAX_WINDOW,
  MIN_MAX_FRAME_BYTES,
  protocolError,
  rstStream,
  SETTING,
  unpadded,
  windowUpdate,
  writeFrameHeader,
} from './protocol/h2-frames.js';
export { HpackDecoder, HpackError, literalHeaderBlock } from './protocol/hpack.js';
