import type { EventEmitter } from 'node:events';
import { constants as h2, type ServerHttp2Stream } from 'node:http2';
import type { Server as NetServer } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { GRPC_MAX_CONCURRENT_STREAMS, GRPC_MAX_CONNECTION_IDLE_MS } from '../limits.js';
import type { ServerLimits } from '../server-limits.js';
import type { InflightBudget } from './inflight-budget.js';

/** Keepalive pings find dead peers holding a connection (grpc-core's server default is 2 h); the lean front's too. */
export const KEEPALIVE_TIME_MS = 120_000;
export const KEEPALIVE_TIMEOUT_MS = 20_000;

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
 * One call's share of what grpc-js has no setting for: a deadline for the call to finish sending
 * its request message (a half-sent message is reset with CANCEL, like REST's 408), and its bytes
 * in the server's in-flight budget, charged per received DATA chunk and released when the call
 * ends (over it the call is reset with ENHANCE_YOUR_CALM, which clients read as RESOURCE_EXHAUSTED).
 * The owner of the stream's listeners calls data/ended/closed (the direct ModelInfer path from
 * its own, guardGrpcStreams for every other call).
 */
/** What StreamGuard needs of a stream: node:http2's, or the lean gRPC front's. */
export interface ResettableStream {
  readonly closed: boolean;
  readonly readableEnded: boolean;
  /** RST_STREAM with `code`. */
  close(code?: number): void;
}

export class StreamGuard {
  private reserved = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly stream: ResettableStream,
    limits: ServerLimits,
    private readonly budget: InflightBudget,
  ) {
    this.timer = setTimeout(() => {
      if (!stream.readableEnded && !stream.closed) stream.close(h2.NGHTTP2_CANCEL);
    }, limits.requestTimeoutMs);
  }

  data(chunk: Buffer): void {
    if (this.budget.reserve(chunk.byteLength)) this.reserved += chunk.byteLength;
    else if (!this.stream.closed) this.stream.close(h2.NGHTTP2_ENHANCE_YOUR_CALM);
  }

  ended(): void {
    clearTimeout(this.timer);
  }

  closed(): void {
    clearTimeout(this.timer);
    this.budget.release(this.reserved);
    this.reserved = 0;
  }
}

/**
 * What grpc-js has no setting for, on its HTTP/2 servers (the private field widenReceiveWindow
 * also reaches; present once bindAsync has answered): a cap on connections, and a StreamGuard per
 * call. Returns false where this grpc-js keeps its servers elsewhere.
 */
export function guardGrpcStreams(server: grpc.Server, limits: ServerLimits, budget: InflightBudget): boolean {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) return false;
  for (const http2Server of http2Servers.keys() as Iterable<EventEmitter & NetServer>) {
    http2Server.maxConnections = limits.maxConnections;
    http2Server.on('stream', (stream: ServerHttp2Stream) => {
      const guard = new StreamGuard(stream, limits, budget);
      stream.on('data', (chunk: Buffer) => guard.data(chunk));
      stream.once('end', () => guard.ended());
      stream.once('close', () => guard.closed());
    });
  }
  return http2Servers.size > 0;
}
