import { status } from '@grpc/grpc-js';
import { GRPC_WINDOW_BYTES } from '../limits.js';
import type { GrpcCallStream } from './grpc-direct-infer.js';
import { literalHeaderBlock } from './hpack.js';
import type { LeanH2Connection } from './lean-h2-connection.js';

/** A request's header fields as node:http2 gives them to a server: pseudo-headers included. */
export type H2Headers = Readonly<Record<string, string>>;

type Output =
  | { readonly kind: 'headers'; readonly block: Buffer; readonly end: boolean }
  | { readonly kind: 'data'; readonly data: Buffer; sent: number; readonly end: boolean };

/** What a stream has to send, in order: HEADERS go out at once, DATA as the client's windows allow. */
export class StreamOutput {
  private readonly items: Output[] = [];
  /** DATA bytes queued and not yet sent. */
  bytes = 0;

  headers(block: Buffer, end: boolean): void {
    this.items.push({ kind: 'headers', block, end });
  }

  data(data: Buffer, end: boolean): void {
    this.items.push({ kind: 'data', data, sent: 0, end });
    this.bytes += data.length;
  }

  peek(): Output | undefined {
    return this.items[0];
  }

  shift(): void {
    const item = this.items.shift();
    if (item?.kind === 'data') this.bytes -= item.data.length;
  }
}

/**
 * One stream of a lean HTTP/2 connection, as the connection sees it: its state, its windows, what
 * it has queued to send. What it does with the request (answer it here, or relay it to grpc-js)
 * is the subclass's.
 */
export abstract class LeanH2Stream {
  sendWindow = 0;
  receiveWindow = GRPC_WINDOW_BYTES;
  /** Receive window given back by the handler and not yet announced in a WINDOW_UPDATE. */
  receiveCredit = 0;
  remoteEnded = false;
  localEnded = false;
  readonly output = new StreamOutput();

  constructor(
    protected readonly connection: LeanH2Connection,
    readonly id: number,
  ) {}

  /** Called once the connection has registered the stream (it may now write or be reset). */
  start(): void {}

  /** Request DATA (padding removed; empty with `end` for END_STREAM alone). */
  abstract data(body: Buffer, end: boolean): void;

  /** The stream is closed: ended both ways (`code` 0), or reset with `code`. */
  abstract ended(code: number): void;

  /** DATA was sent: `queued` bytes are left (a relay resumes reading its upstream). */
  drained(_queued: number): void {}
}

/** `:status 200`, indexed from the static table (RFC 7541 Appendix A, index 8). */
const STATUS_200 = Buffer.from([0x88]);
/** grpc-js's response headers for an answer and its trailers (as grpc-direct-infer's NodeCallStream sends them). */
const ANSWER_HEADERS = Buffer.concat([
  STATUS_200,
  literalHeaderBlock([
    ['content-type', 'application/grpc+proto'],
    ['grpc-accept-encoding', 'identity,deflate,gzip'],
    ['grpc-encoding', 'identity'],
  ]),
]);
const OK_TRAILERS = literalHeaderBlock([
  ['grpc-status', String(status.OK)],
  ['grpc-message', 'OK'],
]);
const ERROR_HEAD = Buffer.concat([
  STATUS_200,
  literalHeaderBlock([['content-type', 'application/grpc+proto']]),
]);

/** A ModelInfer call the front answers itself (DirectCall, grpc-direct-infer.ts), on the lean connection. */
export class TakenStream extends LeanH2Stream implements GrpcCallStream {
  private onData: ((chunk: Buffer) => void) | undefined;
  private onEnd: (() => void) | undefined;
  private onClose: (() => void) | undefined;
  private isClosed = false;

  get closed(): boolean {
    return this.isClosed;
  }

  get readableEnded(): boolean {
    return this.remoteEnded;
  }

  listen(data: (chunk: Buffer) => void, end: () => void, close: () => void): void {
    this.onData = data;
    this.onEnd = end;
    this.onClose = close;
  }

  data(body: Buffer, end: boolean): void {
    if (body.length > 0) {
      this.onData?.(body);
      // the message is held by the call (and charged to the in-flight budget): the window reopens
      this.connection.credit(this, body.length);
    }
    if (end && !this.isClosed) this.onEnd?.();
  }

  ended(_code: number): void {
    this.isClosed = true;
    const close = this.onClose;
    this.onClose = undefined;
    close?.();
  }

  close(code = 0): void {
    if (!this.isClosed) this.connection.resetStream(this.id, code);
  }

  destroy(): void {
    this.close(2); // INTERNAL_ERROR, as node:http2's destroy() resets
  }

  answer(frame: Buffer): void {
    this.output.headers(ANSWER_HEADERS, false);
    this.output.data(frame, false);
    this.output.headers(OK_TRAILERS, true);
    this.connection.flush(this);
  }

  answerError(code: status, message: string): void {
    const fields = literalHeaderBlock([
      ['grpc-status', String(code)],
      ['grpc-message', message],
    ]);
    this.output.headers(Buffer.concat([ERROR_HEAD, fields]), true);
    this.connection.flush(this);
  }
}
