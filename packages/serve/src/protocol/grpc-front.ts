import * as grpc from '@grpc/grpc-js';
import type { ServerLimits } from '../server-limits.js';
import type { ServerContext } from './context.js';
import {
  answerModelInferDirectly,
  createGrpcServer,
  directInferOptions,
  widenReceiveWindow,
} from './grpc.js';
import { grpcConnectionOptions, guardGrpcStreams } from './grpc-limits.js';
import type { InflightBudget } from './inflight-budget.js';
import { LeanGrpcFront } from './lean-h2-front.js';

export interface GrpcFront {
  readonly port: number;
  readonly server: grpc.Server;
  /** The lean HTTP/2 front on the public port, where it serves it (grpc-js then listens on loopback only). */
  readonly lean: LeanGrpcFront | undefined;
}

/**
 * Starts the gRPC port. `lean` (the default): the lean HTTP/2 front (lean-h2-front.ts) listens on
 * the port and relays what it does not answer to grpc-js on an internal 127.0.0.1 port; otherwise
 * grpc-js listens on the port itself, with ModelInfer answered on its node:http2 streams. Where
 * this grpc-js keeps its HTTP/2 servers elsewhere (no direct path there), grpc-js serves the port.
 */
export async function startGrpcFront(
  context: ServerContext,
  options: { host: string; port: number; lean: boolean; limits: ServerLimits; budget: InflightBudget },
): Promise<GrpcFront> {
  const { host, limits, budget, lean } = options;
  const server = createGrpcServer(context, grpcConnectionOptions());
  const address = host.includes(':') ? `[${host}]` : host;
  const bind = (where: string) =>
    new Promise<number>((resolve, reject) =>
      server.bindAsync(where, grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
  const bound = await bind(lean ? '127.0.0.1:0' : `${address}:${options.port}`);
  const log = context.log;
  if (!widenReceiveWindow(server))
    log.warn('gRPC receive window left at 64 KiB: this @grpc/grpc-js keeps its HTTP/2 servers elsewhere');
  if (!guardGrpcStreams(server, limits, budget))
    log.warn(
      'gRPC calls have no receive deadline or byte budget: this @grpc/grpc-js keeps its HTTP/2 servers elsewhere',
    );
  // last: it puts itself in front of the 'stream' listeners of grpc-js and of the guard
  const direct = answerModelInferDirectly(server, context, { limits, budget });
  if (!direct)
    log.warn('gRPC ModelInfer runs through @grpc/grpc-js: this release keeps its HTTP/2 servers elsewhere');
  if (!lean) return { port: bound, server, lean: undefined };
  if (!direct) {
    // no direct path in this grpc-js: grpc-js serves the public port as it always has
    server.unbind(`127.0.0.1:${bound}`);
    return { port: await bind(`${address}:${options.port}`), server, lean: undefined };
  }
  const front = new LeanGrpcFront(context, directInferOptions({ limits, budget }), bound, limits);
  try {
    return { port: await front.listen(host, options.port), server, lean: front };
  } catch (error) {
    server.forceShutdown();
    throw error;
  }
}
