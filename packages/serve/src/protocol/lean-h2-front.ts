import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { ServerLimits } from '../server-limits.js';
import type { ServerContext } from './context.js';
import { DirectCall, type DirectInferOptions, takes } from './grpc-direct-infer.js';
import { type LeanH2Host, LeanH2Connection } from './lean-h2-connection.js';
import { RelayStream, UpstreamSession } from './lean-h2-relay.js';
import { type H2Headers, type LeanH2Stream, TakenStream } from './lean-h2-stream.js';

/**
 * The gRPC port's lean HTTP/2 front. node:http2's own per-stream work (its JS for streams, events,
 * respond/processHeaders/mapToHeaders) was ~40 µs of the gRPC main thread's ~75 per call on the mid
 * benchmark MLP, and a bare node:http2 server answering the same bytes alone cost 44 µs a call
 * (serve-pinned's grpc-floor row): more than ferry's whole goal. So the port is served here, on
 * raw sockets (lean-h2-connection.ts): plain ModelInfer calls are answered by the same DirectCall
 * grpc-direct-infer.ts runs on node:http2 streams (same checks, codec, limits, budget, answers),
 * and every other stream is relayed unchanged to grpc-js, which listens on an internal loopback
 * port (lean-h2-relay.ts), so it decides everything else exactly as before.
 */
export class LeanGrpcFront implements LeanH2Host {
  private readonly server: NetServer;
  private readonly connections = new Map<LeanH2Connection, UpstreamSession>();
  private readonly upstreamAuthority: string;
  private drained: (() => void) | undefined;
  readonly requestTimeoutMs: number;

  constructor(
    private readonly context: ServerContext,
    private readonly options: DirectInferOptions,
    upstreamPort: number,
    limits: ServerLimits,
  ) {
    this.upstreamAuthority = `http://127.0.0.1:${upstreamPort}`;
    this.requestTimeoutMs = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
    this.server = createServer({ noDelay: true }, (socket: Socket) => {
      const connection = new LeanH2Connection(socket, this);
      this.connections.set(connection, new UpstreamSession(this.upstreamAuthority));
    });
    this.server.maxConnections = limits.maxConnections;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as { port: number }).port);
      });
    });
  }

  open(connection: LeanH2Connection, id: number, headers: H2Headers): LeanH2Stream {
    if (headers[':method'] === 'POST' && takes(headers)) {
      const stream = new TakenStream(connection, id);
      new DirectCall(stream, headers['grpc-timeout'], this.context, this.options);
      return stream;
    }
    return new RelayStream(connection, id, headers, this.connections.get(connection)!);
  }

  closed(connection: LeanH2Connection): void {
    this.connections.get(connection)?.close();
    this.connections.delete(connection);
    if (this.connections.size === 0) this.drained?.();
  }

  /** Stops accepting; each connection gets GOAWAY and ends once its open streams have. */
  drain(): Promise<void> {
    const done = new Promise<void>((resolve) => {
      this.drained = resolve;
    });
    this.server.close();
    for (const connection of this.connections.keys()) connection.goAway();
    if (this.connections.size === 0) this.drained?.();
    return done;
  }

  /** The drain deadline: every connection left is cut. */
  cut(): void {
    for (const connection of this.connections.keys()) connection.destroy();
  }
}
