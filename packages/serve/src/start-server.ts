import type { RunningServer, ServeOptions } from './server.js';

/**
 * Starts the server. server.ts (fastify, @grpc/grpc-js, pino, the backends) is imported here, when
 * a server starts, so that importing @ferry/serve for its names (deploymentName, parseModelConfig,
 * DEFAULT_SERVER_LIMITS) loads none of it: `ferry deploy ls` does not pay for a server (issue #23).
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  return (await import('./server.js')).startServer(options);
}
