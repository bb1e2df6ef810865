/*
 * ModelInfer answered on the HTTP/2 streams of @grpc/grpc-js's own server, without grpc-js's
 * per-call machinery (Metadata, interceptor chain, call objects, its stream decoder, a promise
 * per message, protobufjs): on the mid benchmark MLP that machinery and node:http2 under it were
 * ~30% of the event loop's CPU per call (BENCHMARKS.md, serve-pinned profile). Only the common
 * call is taken: ModelInfer, content-type application/grpc[+proto], no message compression, a
 * well-formed grpc-timeout or none. Every other call, method and stream goes to grpc-js's own
 * handler, which answers it exactly as before. What a taken call can get wrong is answered the
 * way grpc-js 1.14 answers it (server-interceptors.ts, stream-decoder.ts, server.ts handleUnary):
 * the same status codes, the same messages, trailers-only for errors, the same response headers.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { type Server, status } from '@grpc/grpc-js';
import { Cancellation } from '../scheduler/cancellation.js';
import type { ServerLimits } from '../server-limits.js';
import type { ServerContext } from './context.js';
import {
  answerModelInfer,
  grpcErrorOf,
  type InferRequestMessage,
  type InferResponseMessage,
} from './grpc-infer.js';
import { decodeInferRequest, encodeInferResponse } from './grpc-infer-codec.js';
import { type ResettableStream, StreamGuard } from './grpc-limits.js';
import type { InflightBudget } from './inflight-budget.js';

export const MODEL_INFER_PATH = '/inference.GRPCInferenceService/ModelInfer';
/** grpc-js server-interceptors.ts: the grpc-timeout it accepts (else it answers INTERNAL) and its units. */
const TIMEOUT = /(\d{1,8})\s*([HMSmun])/;
const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 1e-6,
};
/** The 5-byte gRPC message prefix: compressed flag, 4-byte big-endian length. */
const PREFIX = 5;

export interface DirectInferOptions {
  /** grpc.max_receive_message_length / grpc.max_send_message_length of the grpc-js server. */
  readonly maxReceiveBytes: number;
  readonly maxSendBytes: number;
  /** protobufjs's reader and writer (the method definition's), for what the hand-written codec leaves. */
  readonly deserialize: (message: Buffer) => unknown;
  readonly serialize: (value: unknown) => Buffer;
  /** The receive deadline and in-flight budget guardGrpcStreams gives every other call. */
  readonly limits: ServerLimits;
  readonly budget: InflightBudget;
}

type StreamListener = (this: EventEmitter, stream: ServerHttp2Stream, ...rest: unknown[]) => void;

/**
 * Puts the direct path in front of the 'stream' listeners on each of grpc-js's HTTP/2 servers
 * (the private field widenReceiveWindow also reaches; present once bindAsync has answered): a
 * stream it takes runs none of them, every other stream runs them all. Those are grpc-js's
 * handler and guardGrpcStreams' guard, whose StreamGuard a taken call keeps itself (one set of
 * listeners per stream instead of two), so call it once both are in place and add no 'stream'
 * listener after it. Returns false (and changes nothing) where grpc-js keeps its servers elsewhere.
 */
export function takeModelInferStreams(
  server: Server,
  context: ServerContext,
  options: DirectInferOptions,
): boolean {
  const internals = server as unknown as { http2Servers?: unknown; onStreamOpened?: unknown };
  const http2Servers = internals.http2Servers;
  if (!(http2Servers instanceof Map)) return false;
  // grpc-js counts each connection's open streams for grpc.max_connection_idle_ms
  const opened =
    typeof internals.onStreamOpened === 'function'
      ? (internals.onStreamOpened as (stream: ServerHttp2Stream) => void).bind(server)
      : undefined;
  for (const http2Server of http2Servers.keys() as Iterable<EventEmitter>) {
    const others = http2Server.listeners('stream') as StreamListener[];
    http2Server.removeAllListeners('stream');
    http2Server.on('stream', function (this: EventEmitter, stream: ServerHttp2Stream, ...rest: unknown[]) {
      const headers = rest[0] as IncomingHttpHeaders;
      if (!takes(headers)) {
        for (const listener of others) listener.call(this, stream, ...rest);
        return;
      }
      opened?.(stream);
      new DirectCall(new NodeCallStream(stream), headers['grpc-timeout'], context, options);
    });
  }
  return http2Servers.size > 0;
}

/** Whether the direct path answers a call with these request headers (every other call goes to grpc-js). */
export function takes(headers: IncomingHttpHeaders): boolean {
  if (headers[':path'] !== MODEL_INFER_PATH) return false;
  const type = headers['content-type'];
  if (type !== 'application/grpc' && type !== 'application/grpc+proto') return false;
  const encoding = headers['grpc-encoding'];
  if (encoding !== undefined && encoding !== 'identity') return false;
  const timeout = headers['grpc-timeout'];
  return timeout === undefined || (typeof timeout === 'string' && TIMEOUT.test(timeout));
}

/** encodeURI as grpc-js applies it to grpc-message; a lone surrogate (which it throws on) becomes U+FFFD. */
export function grpcMessage(details: string): string {
  try {
    return encodeURI(details);
  } catch {
    return encodeURI(details.replace(/[\ud800-\udfff]/g, '\ufffd'));
  }
}

/** One taken ModelInfer call, from its first DATA frame to its status. */
export class DirectCall {
  private answered = false;
  private readonly abort = new Cancellation();
  private timer: NodeJS.Timeout | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The length the current frame's prefix declared; -1 until its 5 bytes are in. */
  private declared = -1;
  private message: Buffer | undefined;
  private readonly guard: StreamGuard;

  constructor(
    private readonly stream: GrpcCallStream,
    timeout: string | string[] | undefined,
    private readonly context: ServerContext,
    private readonly options: DirectInferOptions,
  ) {
    this.guard = new StreamGuard(stream, options.limits, options.budget);
    if (typeof timeout === 'string') {
      const match = TIMEOUT.exec(timeout)!;
      const ms = (Number(match[1]) * UNIT_MS[match[2]!]!) | 0;
      this.timer = setTimeout(() => this.fail(status.DEADLINE_EXCEEDED, 'Deadline exceeded'), ms);
    }
    stream.listen(
      (chunk) => this.read(chunk),
      () => {
        this.guard.ended();
        this.run();
      },
      // the client went away (or the stream was reset) before the answer: drop the queued request
      () => {
        this.guard.closed();
        if (this.timer) clearTimeout(this.timer);
        if (!this.answered) {
          this.answered = true;
          this.abort.abort();
        }
      },
    );
  }

  /** grpc-js's StreamDecoder and handleUnary: one message, its size checked as soon as it is declared. */
  private read(chunk: Buffer): void {
    this.guard.data(chunk);
    if (this.answered) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.byteLength;
    for (;;) {
      if (this.declared < 0) {
        if (this.pendingBytes < PREFIX) return;
        if (this.pending[0]!.byteLength < PREFIX)
          this.pending = [Buffer.concat(this.pending, this.pendingBytes)];
        this.declared = this.pending[0]!.readUInt32BE(1);
        if (this.declared > this.options.maxReceiveBytes) {
          this.fail(
            status.RESOURCE_EXHAUSTED,
            `Received message larger than max (${this.declared} vs ${this.options.maxReceiveBytes})`,
          );
          return;
        }
      }
      const frameEnd = PREFIX + this.declared;
      if (this.pendingBytes < frameEnd) return;
      const all =
        this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
      const rest = all.subarray(frameEnd);
      this.pending = rest.byteLength > 0 ? [rest] : [];
      this.pendingBytes = rest.byteLength;
      this.declared = -1;
      if (this.message) {
        this.fail(
          status.UNIMPLEMENTED,
          `Received a second request message for server streaming method ${MODEL_INFER_PATH}`,
        );
        return;
      }
      // the compressed flag is not looked at: without grpc-encoding grpc-js reads it as identity too
      this.message = all.subarray(PREFIX, frameEnd);
    }
  }

  /** Half-close: the request is complete (bytes of a partial second frame are ignored, as grpc-js does). */
  private run(): void {
    if (this.answered) return;
    const message = this.message;
    if (!message) {
      this.fail(
        status.UNIMPLEMENTED,
        `Received no request message for server streaming method ${MODEL_INFER_PATH}`,
      );
      return;
    }
    this.pending = [];
    let request: InferRequestMessage | undefined;
    try {
      request = decodeInferRequest(message) ?? (this.options.deserialize(message) as InferRequestMessage);
    } catch {
      this.fail(status.INTERNAL, 'Error deserializing request');
      return;
    }
    answerModelInfer(this.context, request, this.abort).then(
      (response) => this.reply(response),
      (error: unknown) => {
        const { code, details } = grpcErrorOf(error, this.context);
        this.fail(code, details);
      },
    );
  }

  private reply(response: InferResponseMessage): void {
    if (this.answered) return;
    let frame = encodeInferResponse(response);
    if (!frame) {
      let message: Buffer;
      try {
        message = this.options.serialize(response);
      } catch {
        this.fail(status.INTERNAL, 'Error serializing response');
        return;
      }
      frame = Buffer.allocUnsafe(PREFIX + message.byteLength);
      frame[0] = 0;
      frame.writeUInt32BE(message.byteLength, 1);
      message.copy(frame, PREFIX);
    }
    if (frame.byteLength - PREFIX > this.options.maxSendBytes) {
      this.fail(
        status.RESOURCE_EXHAUSTED,
        `Sent message larger than max (${frame.byteLength} vs. ${this.options.maxSendBytes})`,
      );
      return;
    }
    this.answered = true;
    if (this.timer) clearTimeout(this.timer);
    const answer = frame;
    this.send(() => this.stream.answer(answer, (write) => this.send(write)));
  }

  /** A trailers-only answer, as grpc-js sends every error; a request still queued is dropped. */
  private fail(code: status, details: string): void {
    if (this.answered) return;
    this.answered = true;
    if (this.timer) clearTimeout(this.timer);
    this.pending = [];
    this.message = undefined;
    this.abort.abort();
    this.send(() => this.stream.answerError(code, grpcMessage(details)));
  }

  /**
   * Writes to the stream unless it is gone. node:http2 throws where a stream closed between the
   * check and the call (its session destroyed); that call is cut, never the server: this runs in
   * promise callbacks, where a throw would be an unhandled rejection.
   */
  private send(write: () => void): void {
    const stream = this.stream;
    if (stream.closed) return;
    try {
      write();
    } catch (error) {
      this.context.log.warn({ err: error }, 'gRPC answer not sent');
      stream.destroy();
    }
  }
}

/**
 * What a taken call needs of its HTTP/2 stream: node:http2's (NodeCallStream, on grpc-js's own
 * server) or the lean front's (lean-h2-stream.ts), which answers the same bytes without node:http2.
 */
export interface GrpcCallStream extends ResettableStream {
  /** The request's DATA chunks, its end (END_STREAM), and the stream's close (answered, reset, connection gone), once. */
  listen(data: (chunk: Buffer) => void, end: () => void, close: () => void): void;
  /** 200 with grpc-js's response headers, the message frame, then grpc-status 0 trailers; `send` guards the late trailers. */
  answer(frame: Buffer, send: (write: () => void) => void): void;
  /** A trailers-only answer (`message` already percent-encoded). */
  answerError(code: status, message: string): void;
  /** Cuts the stream (RST_STREAM INTERNAL_ERROR where node:http2 would). */
  destroy(): void;
}

/** GrpcCallStream on a node:http2 stream of grpc-js's server. */
class NodeCallStream implements GrpcCallStream {
  constructor(private readonly stream: ServerHttp2Stream) {}

  get closed(): boolean {
    return this.stream.destroyed || this.stream.closed;
  }

  get readableEnded(): boolean {
    return this.stream.readableEnded;
  }

  close(code?: number): void {
    this.stream.close(code);
  }

  destroy(): void {
    this.stream.destroy();
  }

  listen(data: (chunk: Buffer) => void, end: () => void, close: () => void): void {
    const stream = this.stream;
    // errors surface as 'close' (grpc-js does the same: nothing can be sent on a broken stream)
    stream.once('error', () => undefined);
    stream.once('close', close);
    stream.on('data', data);
    stream.once('end', end);
  }

  answer(frame: Buffer, send: (write: () => void) => void): void {
    const stream = this.stream;
    stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc+proto',
        'grpc-accept-encoding': 'identity,deflate,gzip',
        'grpc-encoding': 'identity',
      },
      { waitForTrailers: true },
    );
    stream.once('wantTrailers', () =>
      send(() => stream.sendTrailers({ 'grpc-status': status.OK, 'grpc-message': 'OK' })),
    );
    stream.end(frame);
  }

  answerError(code: status, message: string): void {
    this.stream.respond(
      {
        ':status': 200,
        'content-type': 'application/grpc+proto',
        'grpc-status': code,
        'grpc-message': message,
      },
      { endStream: true },
    );
  }
}
