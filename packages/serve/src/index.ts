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
