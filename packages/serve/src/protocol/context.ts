import type { Logger } from 'pino';
import type { ServeMetrics } from '../metrics.js';
import type { ModelRepository } from '../repository/repository.js';

export const SERVER_NAME = 'ferry';
export const SERVER_VERSION = '0.1.0';
/**
 * Extensions the server metadata lists (Triton's names where Triton defined them): only what this
 * server answers now. model_repository needs the repository token; model_configuration and
 * statistics are REST routes (the OIP gRPC service has no such RPCs).
 */
export function serverExtensions(context: ServerContext, protocol: 'rest' | 'grpc'): string[] {
  return [
    'binary_tensor_data',
    ...(protocol === 'rest' ? ['model_configuration', 'statistics'] : []),
    'statistics_prometheus',
    ...(context.repositoryToken !== undefined ? ['model_repository'] : []),
  ];
}

/** What the REST and gRPC front ends share. */
export interface ServerContext {
  readonly repository: ModelRepository;
  readonly metrics: ServeMetrics;
  readonly log: Logger;
  /** True once the startup models are loaded and warm, false again while draining. */
  ready(): boolean;
  /** Set by drain(): inference requests are refused from then on. */
  draining(): boolean;
  /** Bearer token for the repository extension routes; undefined = routes are off. */
  readonly repositoryToken: string | undefined;
}
