import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { type LeanHttpTransport, leanTransportOf } from './protocol/lean-http-transport.js';

/**
 * The connections of one HTTP/1.1 front end, as shutdown needs to see them. Node's server.close()
 * closes idle keep-alive connections but also stops the timer that enforces headersTimeout and
 * requestTimeout, so a connection half-way through its headers or body would then live forever
 * (issue #24 item 9); this tracks which connections carry a fully received request (being served)
 * so shutdown can cut the others itself. Create before the server listens.
 */
export class HttpConnections {
  readonly #sockets = new Set<Socket>();
  readonly #current = new Map<Socket, IncomingMessage>();
  readonly #responses = new Set<ServerResponse>();
  /** The connections node:http has not seen yet (lean-http-transport.ts), if the server has them. */
  readonly #lean: LeanHttpTransport | undefined;

  constructor(
    readonly app: FastifyInstance,
    draining: () => boolean,
  ) {
    this.#lean = leanTransportOf(app.server);
    app.server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        this.#current.delete(socket);
      });
    });
    app.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      // a request arriving on a kept-alive connection while draining is its connection's last
      if (draining()) res.shouldKeepAlive = false;
      this.#current.set(req.socket, req);
      this.#responses.add(res);
      res.once('close', () => {
        this.#responses.delete(res);
        if (this.#current.get(req.socket) === req) this.#current.delete(req.socket);
      });
    });
  }

  /**
   * Responses still running close their connection when done (Connection: close; the lean
   * transport's answers say so while draining), idle lean connections close now.
   */
  noKeepAlive(): void {
    this.#lean?.closeIdle();
    for (const res of this.#responses) if (!res.headersSent) res.shouldKeepAlive = false;
  }

  /** Cuts every connection that is not serving a fully received request: mid-headers, mid-body, idle. */
  cutUnfinished(): number {
    let cut = 0;
    for (const socket of this.#sockets) {
      const req = this.#current.get(socket);
      if (req?.complete || this.#lean?.serving(socket)) continue;
      socket.destroy();
      cut++;
    }
    return cut;
  }
}

export interface FrontEnds {
  readonly http: readonly HttpConnections[];
  readonly grpc: grpc.Server | undefined;
  /** The lean gRPC front on the gRPC port (grpc-js then behind it on loopback). */
  readonly leanGrpc?: { drain(): Promise<void>; cut(): void } | undefined;
}

export interface DrainTimes {
  /** A connection still sending its request when draining starts gets this long to finish it. */
  readonly requestTimeoutMs: number;
  /** Everything left is cut this long after draining starts. */
  readonly drainTimeoutMs: number;
}

/**
 * Graceful stop of the front ends (issue #24 item 9: SIGTERM waited forever on an idle keep-alive
 * connection or a half-sent body). At once: stop accepting, close idle keep-alive connections
 * (server.close() does), have running responses close their connection, and send gRPC clients
 * GOAWAY. Requests being served, and `work` (the queued inference), may finish until the drain
 * deadline; a connection still sending headers or a body gets the request timeout, then is cut.
 * At the deadline every connection left is cut and gRPC is force-shut. `forced` says whether the
 * deadline had to cut anything.
 */
export async function drainFrontEnds(
  fronts: FrontEnds,
  work: Promise<unknown>,
  times: DrainTimes,
): Promise<{ forced: boolean }> {
  for (const front of fronts.http) front.noKeepAlive();
  const closed = Promise.allSettled([
    ...fronts.http.map((front) => front.app.close()),
    fronts.grpc && new Promise<void>((resolve) => fronts.grpc!.tryShutdown(() => resolve())),
    fronts.leanGrpc?.drain(),
  ]);
  const cutter = setTimeout(
    () => {
      for (const front of fronts.http) front.cutUnfinished();
    },
    Math.min(times.requestTimeoutMs, times.drainTimeoutMs),
  );
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), times.drainTimeoutMs);
  });
  const finished = await Promise.race([
    Promise.allSettled([closed, work]).then(() => 'done' as const),
    deadline,
  ]);
  clearTimeout(timer);
  clearTimeout(cutter);
  if (finished === 'deadline') {
    for (const front of fronts.http) front.app.server.closeAllConnections();
    fronts.leanGrpc?.cut();
    fronts.grpc?.forceShutdown();
    await closed;
  }
  return { forced: finished === 'deadline' };
}
