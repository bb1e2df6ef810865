import type { RegistryServer, RegistryServerOptions } from './api/server.js';
import type { StartOptions } from './open.js';

/*
 * The server's entry points, importing fastify (api/server.ts) only when a registry starts:
 * importing @ferry/registry for its stores or types loads no HTTP server (issue #23).
 */

export async function createRegistryServer(options: RegistryServerOptions): Promise<RegistryServer> {
  return (await import('./api/server.js')).createRegistryServer(options);
}

export async function startRegistry(options: StartOptions): Promise<RegistryServer & { url: string }> {
  return (await import('./open.js')).startRegistry(options);
}
