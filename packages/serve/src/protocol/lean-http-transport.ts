import { type Server, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ServedVersion } from '../repository/served-version.js';
import type { ServerContext } from './context.js';
import type { InflightBudget } from './inflight-budget.js';
import { type LeanHead, type LeanHeadResult, readLeanHead } from './lean-http-head.js';
import { logRequestLine, restErrorAnswer } from './rest-error-answer.js';
import { inferBodyLimit } from './rest-body-guard.js';
import { answerRestInfer, type ClientWatch } from './rest-infer-answer.js';
import { requestIdOf } from './request-id.js';

/**
 * A lean HTTP/1.1 transport for the infer route, on the server's raw sockets. Node's http stack
 * (parser, IncomingMessage, ServerResponse, header objects, timers per request) was 42% of the
 * event loop's CPU on the mid benchmark MLP (BENCHMARKS.md, serve-pinned profile), ~32 µs a
 * request against ~22 for a whole bare node:http exchange. Each accepted connection starts here:
 * while its requests are plain fast-path infer requests (lean-http-head.ts: a strict subset of
 * HTTP/1.1 that node's parser reads the same way), they are read, run and answered here, one
 * write per answer, in order, pipelined or not, with the fast path's checks, answers, request id,
 * log line and metrics (answerRestInfer). The first request that is anything else hands the
 * connection, with every byte not yet answered, to node:http for the rest of its life, so node's
 * parser and fastify decide all the rest exactly as before: other routes, unknown models, bodies
 * over a limit or the in-flight budget, a draining server, odd or ambiguous heads.
 *
 * Node's own guards, kept here for the connections it does not see yet: headersTimeout and
 * requestTimeout answer 408 through the server's 'clientError' (fastify's handler, as node would),
 * keepAliveTimeout closes an idle connection, maxConnections is net.Server's (before 'connection').
 */
export class LeanHttpTransport {
  readonly #connections = new Map<Socket, LeanConnection>();
  #sweeper: NodeJS.Timeout | undefined;
  readonly limitOf: (served: ServedVersion, binary: boolean) => number;

  constructor(
    readonly server: Server,
    readonly context: ServerContext,
    readonly budget: InflightBudget,
    maxVariableDim: number,
    /** node:http's own 'connection' listener: what a handed-off socket is given to. */
    readonly nodeConnection: (socket: Socket) => void,
  ) {
    this.limitOf = inferBodyLimit(maxVariableDim);
    server.once('close', () => clearInterval(this.#sweeper));
  }

  accept(socket: Socket): void {
    const connection = new LeanConnection(this, socket);
    this.#connections.set(socket, connection);
    socket.once('close', () => this.#connections.delete(socket));
    // node checks its connections on this period too (http-connection-limits.ts)
    this.#sweeper ??= setInterval(() => this.#sweep(), this.#sweepMs()).unref();
  }

  /** A connection left the lean transport (handed off or closed). */
  forget(connection: LeanConnection): void {
    this.#connections.delete(connection.socket);
  }

  /** True while `socket` is lean and owes an answer to a fully received request. */
  serving(socket: Socket): boolean {
    return this.#connections.get(socket)?.serving ?? false;
  }

  /** Draining: idle lean connections close now (server.close() does so for node's own). */
  closeIdle(): void {
    for (const connection of this.#connections.values()) connection.closeIfIdle();
  }

  #sweepMs(): number {
    const s = this.server;
    return Math.max(
      10,
      Math.min(1000, Math.floor(Math.min(s.headersTimeout, s.requestTimeout || s.headersTimeout) / 4)),
    );
  }

  #sweep(): void {
    // Draining: as node's server.close() stops its own connection timer, so does this; shutdown
    // (shutdown.ts) cuts what is unfinished at the request timeout, silently, never with a 408.
    if (this.context.draining()) return;
    const now = performance.now();
    const s = this.server;
    for (const connection of this.#connections.values()) connection.checkTimeouts(now, s);
  }
}

/** One answer owed, in request order. */
interface Owed {
  out: Answer | undefined;
  readonly id: string;
  readonly path: string;
  readonly started: number;
  status: number;
  readonly reserved: number;
}

/** An answer's bytes, and whether the connection ends with it (Connection: close). */
interface Answer {
  readonly head: Buffer;
  readonly parts: readonly Uint8Array[];
  readonly close: boolean;
}

/** One connection's lean state: bytes not yet taken, answers owed, its timers' start times. */
class LeanConnection implements ClientWatch {
  /** Bytes received but not yet taken into a request; [0] starts the next request. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** The head of the request whose body is still arriving, and the model it goes to. */
  #head: LeanHead | undefined;
  #served: ServedVersion | undefined;
  readonly #owed: Owed[] = [];
  /** When the current partial request started (or the connection, before its first byte). */
  #since = performance.now();
  /** When the connection last became idle (no bytes, no answers owed). */
  #idleSince: number | undefined;
  #handingOff = false;
  #ended = false;
  readonly #watchers = new Set<() => void>();
  readonly #onData = (chunk: Buffer) => this.#data(chunk);
  readonly #onEnd = () => this.#end();
  readonly #onError = () => this.socket.destroy();

  constructor(
    readonly transport: LeanHttpTransport,
    readonly socket: Socket,
  ) {
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.once('close', () => {
      for (const watcher of [...this.#watchers]) watcher();
      this.#releaseAll();
    });
  }

  get serving(): boolean {
    return this.#owed.length > 0;
  }

  get writableEnded(): boolean {
    return this.socket.writableEnded;
  }

  once(_event: 'close', listener: () => void): this {
    this.#watchers.add(listener);
    return this;
  }

  off(_event: 'close', listener: () => void): this {
    this.#watchers.delete(listener);
    return this;
  }

  closeIfIdle(): void {
    if (this.#owed.length === 0 && this.#buffered === 0) this.socket.destroy();
  }

  /** Node's timeouts: headersTimeout / requestTimeout (408, via 'clientError') and keepAliveTimeout. */
  checkTimeouts(now: number, server: Server): void {
    if (this.#handingOff) return;
    if (this.#idleSince !== undefined) {
      if (server.keepAliveTimeout > 0 && now - this.#idleSince >= server.keepAliveTimeout)
        this.socket.destroy();
      return;
    }
    if (this.#owed.length > 0 && this.#buffered === 0) return; // serving: node has no timer here
    const limit = this.#head ? server.requestTimeout : server.headersTimeout;
    if (limit > 0 && now - this.#since >= limit) this.#timedOut(server);
  }

  #timedOut(server: Server): void {
    const error = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
    this.transport.forget(this);
    this.#handingOff = true; // nothing more is read or answered here
    if (server.emit('clientError', error, this.socket)) return;
    if (this.socket.writable && this.socket.bytesWritten === 0)
      this.socket.write('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    this.socket.destroy();
  }

  #data(chunk: Buffer): void {
    if (this.#buffered === 0) {
      this.#since = performance.now();
      this.#idleSince = undefined;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (!this.#handingOff) this.#take();
  }

  /** Takes every complete request in the buffer; stops at a partial one or at a hand-off. */
  #take(): void {
    for (;;) {
      if (!this.#head) {
        const bytes = this.#joined();
        if (bytes.length === 0) return;
        const head =
          this.#repeatedHead(bytes) ?? this.#remembered(bytes, readLeanHead(bytes, 0, bytes.length));
        if (head === 'incomplete') return;
        if (head === 'handoff' || !this.#admit(head)) {
          this.#handOff();
          return;
        }
      }
      const head = this.#head!;
      const needed = head.headBytes + head.contentLength;
      if (this.#buffered < needed) return;
      const bytes = this.#joined();
      const body = bytes.subarray(head.headBytes, needed);
      const rest = bytes.subarray(needed);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
      this.#since = performance.now();
      this.#head = undefined;
      this.#run(head, this.#served!, body);
    }
  }

  /**
   * The last plain head read on this connection, as bytes (a copy) and as read. A client sends
   * the same head request after request (same route, headers, length): when the next request
   * starts with those exact bytes, it is that head (readLeanHead reads nothing past the blank line
   * that ends them), so the text, the split and a regular expression per line are skipped.
   */
  #lastHead: { readonly bytes: Buffer; readonly head: LeanHead } | undefined;

  #repeatedHead(bytes: Buffer): LeanHead | undefined {
    const last = this.#lastHead;
    if (!last) return undefined;
    const n = last.bytes.length;
    return bytes.length >= n && bytes.compare(last.bytes, 0, n, 0, n) === 0 ? last.head : undefined;
  }

  #remembered(bytes: Buffer, head: LeanHeadResult): LeanHeadResult {
    if (typeof head === 'object')
      this.#lastHead = { bytes: Buffer.from(bytes.subarray(0, head.headBytes)), head };
    return head;
  }

  /** The fast path's checks (rest-fast-infer.ts); false hands the request to node and fastify. */
  #admit(head: LeanHead): boolean {
    const { context, budget, limitOf } = this.transport;
    if (context.draining()) return false;
    let served: ServedVersion;
    try {
      served = context.repository.resolve(head.model, head.version);
    } catch {
      return false; // fastify answers the 404 / 503
    }
    const binary = head.inferenceHeaderLength !== undefined;
    if (head.contentLength > limitOf(served, binary) || !budget.reserve(head.contentLength)) return false;
    this.#head = head;
    this.#served = served;
    return true;
  }

  #run(head: LeanHead, served: ServedVersion, body: Buffer): void {
    const { context } = this.transport;
    const owed: Owed = {
      out: undefined,
      id: requestIdOf(head.requestId),
      path: head.path,
      started: performance.now(),
      status: 200,
      reserved: head.contentLength,
    };
    this.#owed.push(owed);
    answerRestInfer(context, served, body, head.inferenceHeaderLength, this).then(
      (answer) => {
        const binary = answer.headerLength !== undefined;
        owed.out = this.#answer(
          200,
          `content-type: ${binary ? 'application/octet-stream' : 'application/json'}\r\nx-request-id: ${owed.id}\r\ncontent-length: ${answer.byteLength}\r\n${binary ? `inference-header-content-length: ${answer.headerLength}\r\n` : ''}`,
          answer.parts,
        );
        this.#flush();
      },
      (error: unknown) => {
        const { status, body: errorBody } = restErrorAnswer(context, owed.id, error);
        owed.status = status;
        owed.out = this.#answer(
          status,
          `content-type: application/json; charset=utf-8\r\nx-request-id: ${owed.id}\r\ncontent-length: ${errorBody.byteLength}\r\n`,
          [errorBody],
        );
        this.#flush();
      },
    );
  }

  /** The status line and head node:http writes for res.writeHead(status, headers) + res.end(body). */
  #answer(status: number, headers: string, parts: readonly Uint8Array[]): Answer {
    const keepAlive = !this.transport.context.draining() && !this.#ended;
    const server = this.transport.server;
    const connection = keepAlive
      ? `Connection: keep-alive\r\n${server.keepAliveTimeout > 0 ? `Keep-Alive: timeout=${Math.floor(server.keepAliveTimeout / 1000)}\r\n` : ''}`
      : 'Connection: close\r\n';
    const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n${headers}Date: ${httpDate()}\r\n${connection}\r\n`;
    return { head: Buffer.from(head, 'latin1'), parts, close: !keepAlive };
  }

  /** Writes the answers that are ready, in request order. */
  #flush(): void {
    const socket = this.socket;
    let closing = false;
    while (this.#owed.length > 0 && this.#owed[0]!.out) {
      const owed = this.#owed.shift()!;
      const { head, parts, close } = owed.out!;
      this.transport.budget.release(owed.reserved);
      if (socket.destroyed) continue;
      closing = close;
      socket.cork();
      socket.write(head);
      for (const part of parts) socket.write(part);
      socket.uncork();
      logRequestLine(this.transport.context, owed.id, 'POST', owed.path, owed.status, owed.started);
      if (closing) break;
    }
    if (closing) {
      this.#handingOff = true; // read nothing more: the connection ends with this answer
      this.transport.forget(this);
      socket.end();
      return;
    }
    if (this.#owed.length > 0) return;
    if (this.#handingOff) {
      this.#giveToNode();
      return;
    }
    if (this.#ended) {
      socket.end();
      return;
    }
    if (this.#buffered === 0) this.#idleSince = performance.now();
  }

  #end(): void {
    this.#ended = true;
    // a client that half-closes mid-request gets nothing more (node would answer it 400)
    if (this.#buffered > 0 && !this.#handingOff) {
      this.socket.destroy();
      return;
    }
    if (this.#owed.length === 0 && !this.#handingOff) this.socket.end();
  }

  /** Stops reading; once every answer owed is written, node:http gets the socket and the bytes. */
  #handOff(): void {
    this.#handingOff = true;
    this.socket.pause();
    if (this.#owed.length === 0) this.#giveToNode();
  }

  #giveToNode(): void {
    const socket = this.socket;
    this.transport.forget(this);
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('error', this.#onError);
    if (socket.destroyed) return;
    const bytes = this.#joined();
    this.#chunks = [];
    this.#buffered = 0;
    if (bytes.length > 0) socket.unshift(bytes);
    // Node's server reads a fresh socket's handle natively (parser.consume) and would read the
    // kernel's next bytes around the ones pushed back above; with the handle marked consumed it
    // reads through 'data' instead, in order. Only handed-off connections pay for that.
    const handle = (socket as unknown as { _handle?: { _consumed?: boolean } })._handle;
    if (handle) handle._consumed = true;
    this.transport.nodeConnection.call(this.transport.server, socket);
    socket.resume();
  }

  #joined(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
    return this.#chunks[0] ?? EMPTY;
  }

  #releaseAll(): void {
    for (const owed of this.#owed) this.transport.budget.release(owed.reserved);
    this.#owed.length = 0;
    if (this.#head) this.transport.budget.release(this.#head.contentLength);
    this.#head = undefined;
  }
}

const EMPTY = Buffer.alloc(0);

let dateSecond = -1;
let dateText = '';
/** The Date header's value, made once a second (node:http caches it the same way). */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/**
 * Puts the lean transport in front of `server`'s node:http connection handling. Returns undefined
 * (nothing changed) when the server's 'connection' listeners are not node's one.
 */
export function attachLeanTransport(
  server: Server,
  context: ServerContext,
  bodies: { budget: InflightBudget; maxVariableDim: number },
): LeanHttpTransport | undefined {
  const listeners = server.listeners('connection');
  if (listeners.length !== 1) return undefined;
  const nodeConnection = listeners[0] as (socket: Socket) => void;
  server.removeListener('connection', nodeConnection);
  const transport = new LeanHttpTransport(
    server,
    context,
    bodies.budget,
    bodies.maxVariableDim,
    nodeConnection,
  );
  server.on('connection', (socket: Socket) => transport.accept(socket));
  TRANSPORTS.set(server, transport);
  return transport;
}

const TRANSPORTS = new WeakMap<Server, LeanHttpTransport>();

/** The lean transport in front of `server`, if there is one (shutdown.ts asks). */
export function leanTransportOf(server: Server): LeanHttpTransport | undefined {
  return TRANSPORTS.get(server);
}
