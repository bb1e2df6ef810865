import type { EventEmitter } from 'node:events';
import { constants as h2, type ServerHttp2Stream } from 'node:http2';
import type { Server as NetServer } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { GRPC_MAX_CONCURRENT_STREAMS, GRPC_MAX_CONNECTION_IDLE_MS } from '../limits.js';
import type { ServerLimits } from '../server-limits.js';
import type { InflightBudget } from './inflight-budget.js';

/** Keepalive pings find dead peers holding a connection (grpc-core's server default is 2 h). */
const KEEPALIVE_TIME_MS = 120_000;
const KEEPALIVE_TIMEOUT_MS = 20_000;

/** grpc-js server options for the connection limits it has settings for. */
export function grpcConnectionOptions(): grpc.ServerOptions {
  return {
    'grpc.max_connection_idle_ms': GRPC_MAX_CONNECTION_IDLE_MS,
    'grpc.max_concurrent_streams': GRPC_MAX_CONCURRENT_STREAMS,
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  };
}

/**
 * What grpc-js has no setting for, on its HTTP/2 servers (the private field widenReceiveWindow
 * also reaches; present once bindAsync has answered): a cap on connections, a deadline for a call
 * to finish sending its request message (a half-sent message is reset with CANCEL, like REST's
 * 408), and the server's in-flight byte budget, charged per received DATA chunk and released when
 * the call ends (over it the call is reset with ENHANCE_YOUR_CALM, which clients read as
 * RESOURCE_EXHAUSTED). Returns false where this grpc-js keeps its servers elsewhere.
 */
export function guardGrpcStreams(server: grpc.Server, limits: ServerLimits, budget: InflightBudget): boolean {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) return false;
  for (const http2Server of http2Servers.keys() as Iterable<EventEmitter & NetServer>) {
    http2Server.maxConnections = limits.maxConnections;
    http2Server.on('stream', (stream: ServerHttp2Stream) => {
      let reserved = 0;
      const timer = setTimeout(() => {
        if (!stream.readableEnded && !stream.closed) stream.close(h2.NGHTTP2_CANCEL);
      }, limits.requestTimeoutMs);
      stream.on('data', (chunk: Buffer) => {
        if (budget.reserve(chunk.byteLength)) reserved += chunk.byteLength;
        else if (!stream.closed) stream.close(h2.NGHTTP2_ENHANCE_YOUR_CALM);
      });
      stream.once('end', () => clearTimeout(timer));
      stream.once('close', () => {
        clearTimeout(timer);
        budget.release(reserved);
        reserved = 0;
      });
    });
  }
  return http2Servers.size > 0;
}
