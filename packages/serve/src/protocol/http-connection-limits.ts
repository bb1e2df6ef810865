import type { Server } from 'node:http';
import type { ServerLimits } from '../server-limits.js';

/**
 * Node's own guards for an HTTP/1.1 server, set from the server limits (issue #24 item 8: 5,000
 * slowloris connections stayed open 329 s, since fastify leaves requestTimeout at 0). Node answers
 * 408 and closes a connection whose headers or whole request did not arrive in time, closes idle
 * keep-alive connections, and drops connections accepted past maxConnections. Call before listen():
 * Node reads connectionsCheckingInterval when it starts listening.
 */
export function applyConnectionLimits(server: Server, limits: ServerLimits): void {
  // Node requires headersTimeout <= requestTimeout (the request's time includes its headers)
  server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  // Node checks both timeouts on this period (default 30 s, which would stretch a 1 s timeout to
  // 30); a createServer option that @types/node does not list as a property, read at listen()
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(
    10,
    Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4)),
  );
}
