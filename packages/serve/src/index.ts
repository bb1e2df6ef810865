/**
 * @ferry/serve: an Open Inference Protocol v2 server (REST + gRPC) with dynamic batching.
 * Public API only; everything else is internal.
 */
export { BACKENDS } from './backends/index.js';
export {
  isServeError,
  SERVE_ERRORS,
  ServeError,
  type ServeErrorCode,
  type ServeErrorSpec,
  serveError,
} from './errors.js';
export { HandlerPool, type HandlerStage, MAX_HANDLER_THREADS } from './handler/handler-pool.js';
export { HANDLER_ROUTE } from './handler/handler-route.js';
// ServeMetrics: the UI's tests scrape the real /metrics exposition it writes
export { ServeMetrics } from './metrics.js';
export { PROTO_OPTIONS, PROTO_PATH } from './protocol/grpc.js';
export { parseModelConfig, readModelConfig } from './repository/config.js';
export type { ModelControlMode, RepositoryEvent } from './repository/repository.js';
export { type DeploymentSpec, deploymentName, registrySource } from './repository/registry-source.js';
export { type RunningServer, type ServeOptions, startServer } from './server.js';
export { DEFAULT_SERVER_LIMITS, type ServerLimits } from './server-limits.js';
