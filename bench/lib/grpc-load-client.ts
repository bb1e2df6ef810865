/**
 * A lean gRPC unary client for the load generator: HTTP/2 (RFC 9113) written straight onto one
 * `net` socket, shared by every simulated client as a gRPC channel is. Each call is one HEADERS
 * frame with a prebuilt HPACK block and the prebuilt message as one DATA frame, and every call
 * started in one tick goes out in one socket write; answers are read only as far as `:status` and
 * `grpc-status`. The clients are closed loops, so the client's CPU per call sits on the critical
 * path: once the server has answered 64 calls, the next 64 wait for it. node:http2's client cost
 * 118-189 µs of CPU per call on this machine (its streams, events and nghttp2 round trips), leaving
 * the server's core idle ~16% of the time; @grpc/grpc-js's ~130 µs before that.
 */
import { connect, type Socket } from 'node:net';
import {
  CLIENT_PREFACE,
  DEFAULT_WINDOW,
  ERROR_NAMES,
  type ErrorName,
  errorCode,
  errorName,
  FLAG,
  FRAME,
  FRAME_HEADER_BYTES,
  FrameReader,
  frame,
  frameSizeError,
  H2ConnectionError,
  MAX_MAX_FRAME_BYTES,
  MAX_STREAM_ID,
  MAX_WINDOW,
  MIN_MAX_FRAME_BYTES,
  protocolError,
  rstStream,
  SETTING,
  unpadded,
  windowUpdate,
  writeFrameHeader,
  HpackDecoder,
  HpackError,
  literalHeaderBlock,
} from '@ferry/serve';

/** Large enough that 64 calls' answers in flight never wait for a WINDOW_UPDATE. */
const RECEIVE_WINDOW = 16 * 2 ** 20;
/** A header block (HEADERS and its CONTINUATIONs) larger than this fails the connection (CWE-400). */
const MAX_HEADER_BLOCK_BYTES = 64 * 1024;

export type CallDone = (error: Error | undefined) => void;

/** A gRPC message frame: compressed flag 0, 4-byte big-endian length, the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.byteLength, 1);
  return Buffer.concat([head, message]);
}

/** One call's stream. */
class Call {
  /** Bytes of the message not yet sent: the server's flow-control windows hold them back. */
  unsent: Buffer | undefined;
  closed = false;
  answered = false; // a final (non-1xx) HEADERS block has arrived
  status: string | undefined;
  grpcStatus: string | undefined;
  received = 0; // DATA bytes since this stream's last WINDOW_UPDATE

  constructor(
    readonly id: number,
    readonly done: CallDone,
    public sendWindow: number,
  ) {}
}

/** The HEADERS frame of a call (stream id 0, patched per call), and with it the DATA header. */
interface Prefix {
  readonly path: string;
  readonly messageBytes: number;
  readonly headers: Buffer;
  readonly headersAndData: Buffer;
}

export class GrpcLoadClient {
  private readonly reader = new FrameReader(MIN_MAX_FRAME_BYTES);
  private readonly decoder = new HpackDecoder();
  private readonly calls = new Map<number, Call>();
  /** Calls held back by the server's SETTINGS_MAX_CONCURRENT_STREAMS, oldest first. */
  private waiting: { path: string; message: Buffer; done: CallDone }[] = [];
  /** Streams with DATA that the send windows hold back, oldest first. */
  private blocked: Call[] = [];
  private nextStreamId = 1;
  // the server's settings (RFC 9113 6.5.2 defaults until its SETTINGS frame)
  private maxConcurrent = Number.POSITIVE_INFINITY;
  private initialSendWindow = DEFAULT_WINDOW;
  private maxSendFrame = MIN_MAX_FRAME_BYTES;
  private sendWindow = DEFAULT_WINDOW; // the connection's
  private received = 0; // DATA bytes since the connection's last WINDOW_UPDATE
  /** A header block awaiting its CONTINUATION frames. */
  private headerBlock: { streamId: number; endStream: boolean; parts: Buffer[]; bytes: number } | undefined;
  private prefix: Prefix | undefined;
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  /** Set once the connection can take no new call: it failed, was closed, or the server sent GOAWAY. */
  private refusal: Error | undefined;
  private failed = false;
  private ready: ((error: Error | undefined) => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly authority: string,
    ready: (error: Error | undefined) => void,
  ) {
    this.ready = ready;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      const settings = Buffer.alloc(12);
      settings.writeUInt16BE(SETTING.ENABLE_PUSH, 0);
      settings.writeUInt32BE(0, 2);
      settings.writeUInt16BE(SETTING.INITIAL_WINDOW_SIZE, 6);
      settings.writeUInt32BE(RECEIVE_WINDOW, 8);
      this.queue(CLIENT_PREFACE);
      this.queue(frame(FRAME.SETTINGS, 0, 0, settings));
      this.queue(windowUpdate(0, RECEIVE_WINDOW - DEFAULT_WINDOW));
    });
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('HTTP/2 connection closed')));
  }

  /** Connects to `http://host:port` and resolves once the server's SETTINGS have arrived. */
  static open(authority: string): Promise<GrpcLoadClient> {
    const url = new URL(authority);
    if (url.protocol !== 'http:')
      return Promise.reject(new Error(`${authority}: only http:// (HTTP/2 without TLS) is spoken`));
    return new Promise((resolve, reject) => {
      const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) });
      const client = new GrpcLoadClient(socket, url.host, (error) =>
        error ? reject(error) : resolve(client),
      );
    });
  }

  /** One unary call of `path` with a prebuilt frame; `done` gets an error unless grpc-status is 0. */
  call(path: string, message: Buffer, done: CallDone): void {
    if (this.refusal) process.nextTick(done, this.refusal);
    else if (this.calls.size >= this.maxConcurrent || this.waiting.length > 0)
      this.waiting.push({ path, message, done });
    else this.start(path, message, done);
  }

  close(): void {
    this.fail(new Error('HTTP/2 client closed'));
  }

  private start(path: string, message: Buffer, done: CallDone): void {
    if (this.nextStreamId > MAX_STREAM_ID) {
      process.nextTick(done, new Error('HTTP/2 stream ids used up: open a new client'));
      return;
    }
    const call = new Call(this.nextStreamId, done, this.initialSendWindow);
    this.nextStreamId += 2;
    this.calls.set(call.id, call);
    const prefix = this.prefixOf(path, message.length);
    const length = message.length;
    const fits = length <= this.sendWindow && length <= call.sendWindow && length <= this.maxSendFrame;
    if (fits && this.blocked.length === 0) {
      // the common case: HEADERS and the whole message as one DATA frame, in one copy of the prefix
      const head = Buffer.allocUnsafe(prefix.headersAndData.length);
      prefix.headersAndData.copy(head);
      head.writeUInt32BE(call.id, 5);
      head.writeUInt32BE(call.id, head.length - 4);
      this.sendWindow -= length;
      call.sendWindow -= length;
      this.queue(head);
      this.queue(message);
      return;
    }
    const head = Buffer.from(prefix.headers);
    head.writeUInt32BE(call.id, 5);
    this.queue(head);
    call.unsent = message;
    this.blocked.push(call);
    this.sendBlocked();
  }

  private prefixOf(path: string, messageBytes: number): Prefix {
    if (this.prefix?.path === path && this.prefix.messageBytes === messageBytes) return this.prefix;
    const block = literalHeaderBlock([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', path],
      [':authority', this.authority],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
    ]);
    if (block.length > this.maxSendFrame)
      throw new Error(`request headers of ${block.length} bytes: path too long`);
    const headers = frame(FRAME.HEADERS, FLAG.END_HEADERS, 0, block);
    const dataHeader = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    writeFrameHeader(dataHeader, 0, messageBytes, FRAME.DATA, FLAG.END_STREAM, 0);
    this.prefix = { path, messageBytes, headers, headersAndData: Buffer.concat([headers, dataHeader]) };
    return this.prefix;
  }

  /** Sends what the send windows now allow of the held-back messages, oldest stream first. */
  private sendBlocked(): void {
    if (this.blocked.length === 0) return;
    for (const call of this.blocked) {
      while (call.unsent && !call.closed) {
        const size = Math.max(
          0,
          Math.min(call.unsent.length, this.sendWindow, call.sendWindow, this.maxSendFrame),
        );
        if (size === 0 && call.unsent.length > 0) break;
        const last = size === call.unsent.length;
        const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
        writeFrameHeader(head, 0, size, FRAME.DATA, last ? FLAG.END_STREAM : 0, call.id);
        this.queue(head);
        if (size > 0) this.queue(call.unsent.subarray(0, size));
        this.sendWindow -= size;
        call.sendWindow -= size;
        call.unsent = last ? undefined : call.unsent.subarray(size);
      }
      if (call.unsent && !call.closed && this.sendWindow <= 0) break; // the connection's window is spent
    }
    this.blocked = this.blocked.filter((call) => call.unsent && !call.closed);
  }

  private read(chunk: Buffer): void {
    if (this.failed) return;
    try {
      this.reader.push(chunk, (type, flags, streamId, payload) =>
        this.onFrame(type, flags, streamId, payload),
      );
    } catch (error) {
      this.connectionError(
        error instanceof H2ConnectionError
          ? error
          : error instanceof HpackError
            ? new H2ConnectionError('COMPRESSION_ERROR', error.message)
            : new H2ConnectionError(
                'INTERNAL_ERROR',
                `the client failed reading a frame: ${(error as Error).message}`,
              ),
      );
    }
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.headerBlock && type !== FRAME.CONTINUATION)
      throw protocolError(`frame type ${type} inside stream ${this.headerBlock.streamId}'s header block`);
    switch (type) {
      case FRAME.DATA:
        this.onData(flags, streamId, payload);
        return;
      case FRAME.HEADERS:
        this.onHeaders(flags, streamId, payload);
        return;
      case FRAME.CONTINUATION:
        this.onContinuation(flags, streamId, payload);
        return;
      case FRAME.PRIORITY:
        if (streamId === 0) throw protocolError('PRIORITY on stream 0');
        if (payload.length !== 5) throw frameSizeError('PRIORITY', payload.length);
        return;
      case FRAME.RST_STREAM: {
        if (streamId === 0) throw protocolError('RST_STREAM on stream 0');
        if (payload.length !== 4) throw frameSizeError('RST_STREAM', payload.length);
        this.checkOpened(streamId, 'RST_STREAM');
        const call = this.calls.get(streamId);
        if (call)
          this.finish(call, new Error(`stream reset by the server (${errorName(payload.readUInt32BE(0))})`));
        return;
      }
      case FRAME.SETTINGS:
        this.onSettings(flags, streamId, payload);
        return;
      case FRAME.PUSH_PROMISE:
        throw protocolError('PUSH_PROMISE, though the client sent SETTINGS_ENABLE_PUSH 0');
      case FRAME.PING:
        if (streamId !== 0) throw protocolError(`PING on stream ${streamId}`);
        if (payload.length !== 8) throw frameSizeError('PING', payload.length);
        if (!(flags & FLAG.ACK)) this.queue(frame(FRAME.PING, FLAG.ACK, 0, payload));
        return;
      case FRAME.GOAWAY:
        if (streamId !== 0) throw protocolError(`GOAWAY on stream ${streamId}`);
        if (payload.length < 8) throw frameSizeError('GOAWAY', payload.length);
        this.onGoAway(
          payload.readUInt32BE(0) & MAX_STREAM_ID,
          payload.readUInt32BE(4),
          payload.toString('latin1', 8, Math.min(payload.length, 200)),
        );
        return;
      case FRAME.WINDOW_UPDATE:
        this.onWindowUpdate(streamId, payload);
        return;
      default:
        return; // unknown frame types are ignored (RFC 9113 4.1)
    }
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw protocolError('DATA on stream 0');
    unpadded(flags, payload, 'DATA');
    // every DATA byte, padding included, counts against the connection's window (RFC 9113 6.9.1)
    this.received += payload.length;
    if (this.received >= RECEIVE_WINDOW / 2) {
      this.queue(windowUpdate(0, this.received));
      this.received = 0;
    }
    this.checkOpened(streamId, 'DATA');
    const call = this.calls.get(streamId);
    if (!call) return; // a stream this client has reset: its DATA may still be on the way
    if (!call.answered) {
      this.resetStream(call, 'PROTOCOL_ERROR', 'DATA before the response headers');
      return;
    }
    if (flags & FLAG.END_STREAM) {
      this.finish(call);
      return;
    }
    call.received += payload.length;
    if (call.received >= RECEIVE_WINDOW / 2) {
      this.queue(windowUpdate(call.id, call.received));
      call.received = 0;
    }
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw protocolError('HEADERS on stream 0');
    let block = unpadded(flags, payload, 'HEADERS');
    if (flags & FLAG.PRIORITY) {
      if (block.length < 5) throw frameSizeError('HEADERS with PRIORITY', payload.length);
      block = block.subarray(5);
    }
    const endStream = (flags & FLAG.END_STREAM) !== 0;
    if (flags & FLAG.END_HEADERS) {
      this.onHeaderBlock(streamId, endStream, block);
      return;
    }
    this.headerBlock = { streamId, endStream, parts: [Buffer.from(block)], bytes: block.length };
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const pending = this.headerBlock;
    if (!pending || pending.streamId !== streamId)
      throw protocolError(`CONTINUATION on stream ${streamId} without a HEADERS frame before it`);
    pending.parts.push(Buffer.from(payload));
    pending.bytes += payload.length;
    if (pending.bytes > MAX_HEADER_BLOCK_BYTES)
      throw new H2ConnectionError('ENHANCE_YOUR_CALM', `a header block over ${MAX_HEADER_BLOCK_BYTES} bytes`);
    if (!(flags & FLAG.END_HEADERS)) return;
    this.headerBlock = undefined;
    this.onHeaderBlock(streamId, pending.endStream, Buffer.concat(pending.parts, pending.bytes));
  }

  private onHeaderBlock(streamId: number, endStream: boolean, block: Buffer): void {
    const fields = this.decoder.decode(block); // always: the decoder's table must stay in step
    this.checkOpened(streamId, 'HEADERS');
    const call = this.calls.get(streamId);
    if (!call) return;
    let status: string | undefined;
    for (const [name, value] of fields) {
      if (name === ':status') status = value;
      else if (name === 'grpc-status') call.grpcStatus = value;
    }
    if (!call.answered) {
      if (status === undefined) {
        this.resetStream(call, 'PROTOCOL_ERROR', 'response headers without :status');
        return;
      }
      if (status.startsWith('1') && !endStream) return; // an informational answer; the real one follows
      call.answered = true;
      call.status = status;
    } else if (!endStream) {
      this.resetStream(call, 'PROTOCOL_ERROR', 'trailers without END_STREAM');
      return;
    }
    if (endStream) this.finish(call);
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw protocolError(`SETTINGS on stream ${streamId}`);
    if (flags & FLAG.ACK) {
      if (payload.length !== 0) throw frameSizeError('SETTINGS ACK', payload.length);
      return;
    }
    if (payload.length % 6 !== 0) throw frameSizeError('SETTINGS', payload.length);
    for (let at = 0; at < payload.length; at += 6) {
      const value = payload.readUInt32BE(at + 2);
      switch (payload.readUInt16BE(at)) {
        case SETTING.ENABLE_PUSH:
          // RFC 9113 forbids a server's 1, RFC 7540 did not: node's server may send it; it pushes nothing
          if (value > 1) throw protocolError(`SETTINGS_ENABLE_PUSH ${value}`);
          break;
        case SETTING.MAX_CONCURRENT_STREAMS:
          this.maxConcurrent = value;
          break;
        case SETTING.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW)
            throw new H2ConnectionError('FLOW_CONTROL_ERROR', `SETTINGS_INITIAL_WINDOW_SIZE ${value}`);
          // the change applies to every open stream's window, which may go negative (RFC 9113 6.9.2)
          const delta = value - this.initialSendWindow;
          this.initialSendWindow = value;
          for (const call of this.calls.values()) call.sendWindow += delta;
          break;
        }
        case SETTING.MAX_FRAME_SIZE:
          if (value < MIN_MAX_FRAME_BYTES || value > MAX_MAX_FRAME_BYTES)
            throw protocolError(`SETTINGS_MAX_FRAME_SIZE ${value}`);
          this.maxSendFrame = value;
          break;
        default: // HEADER_TABLE_SIZE (this client never indexes), MAX_HEADER_LIST_SIZE, unknown ones
      }
    }
    this.queue(frame(FRAME.SETTINGS, FLAG.ACK, 0));
    const ready = this.ready;
    this.ready = undefined;
    ready?.(undefined);
    this.startWaiting();
    this.sendBlocked();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw frameSizeError('WINDOW_UPDATE', payload.length);
    const increment = payload.readUInt32BE(0) & MAX_WINDOW;
    if (streamId === 0) {
      if (increment === 0) throw protocolError('WINDOW_UPDATE of 0 on the connection');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW)
        throw new H2ConnectionError('FLOW_CONTROL_ERROR', `the connection's send window above ${MAX_WINDOW}`);
    } else {
      this.checkOpened(streamId, 'WINDOW_UPDATE');
      const call = this.calls.get(streamId);
      if (!call) return;
      if (increment === 0) {
        this.resetStream(call, 'PROTOCOL_ERROR', 'WINDOW_UPDATE of 0');
        return;
      }
      call.sendWindow += increment;
      if (call.sendWindow > MAX_WINDOW) {
        this.resetStream(call, 'FLOW_CONTROL_ERROR', `send window above ${MAX_WINDOW}`);
        return;
      }
    }
    this.sendBlocked();
  }

  /**
   * GOAWAY: no new call goes out on this connection. After a graceful one (NO_ERROR) the server
   * still answers the streams up to `lastStreamId`; the rest it never processed, so they fail now.
   * After an error every open call fails and the connection closes.
   */
  private onGoAway(lastStreamId: number, code: number, debug: string): void {
    const error = new Error(`the server sent GOAWAY (${errorName(code)}${debug ? `: ${debug}` : ''})`);
    if (code !== errorCode('NO_ERROR')) {
      this.fail(error);
      return;
    }
    this.refusal ??= error;
    for (const call of [...this.calls.values()]) if (call.id > lastStreamId) this.finish(call, error);
    this.failWaiting(error);
  }

  /** A stream the server names must be one this client opened (odd, already used): else PROTOCOL_ERROR. */
  private checkOpened(streamId: number, what: string): void {
    if (streamId % 2 === 0 || streamId >= this.nextStreamId)
      throw protocolError(`${what} on stream ${streamId}, which the client never opened`);
  }

  /** A stream error (RFC 9113 5.4.2): RST_STREAM to the server, the call fails. */
  private resetStream(call: Call, code: ErrorName, message: string): void {
    this.queue(rstStream(call.id, code));
    this.finish(call, new Error(`HTTP/2 ${code} on stream ${call.id}: ${message}`));
  }

  /** Closes a call's stream and answers it: its outcome is `error`, else its status and grpc-status. */
  private finish(call: Call, error?: Error): void {
    if (call.closed) return;
    call.closed = true;
    this.calls.delete(call.id);
    // an answer that came before the whole request went out: the rest is not wanted
    if (call.unsent && !error) this.queue(rstStream(call.id, 'CANCEL'));
    call.unsent = undefined;
    const outcome =
      error ??
      (call.status !== '200'
        ? new Error(`HTTP ${call.status}`)
        : call.grpcStatus === '0'
          ? undefined
          : new Error(`grpc-status ${call.grpcStatus}`));
    deliver(call.done, outcome);
    this.startWaiting();
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.calls.size < this.maxConcurrent && !this.refusal) {
      const next = this.waiting.shift()!;
      this.start(next.path, next.message, next.done);
    }
  }

  private failWaiting(error: Error): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const next of waiting) deliver(next.done, error);
  }

  /** A connection error (RFC 9113 5.4.1): GOAWAY with its code, every call fails, the socket closes. */
  private connectionError(error: H2ConnectionError): void {
    if (this.failed) return;
    const payload = Buffer.alloc(8 + Math.min(error.message.length, 200));
    payload.writeUInt32BE(0, 0); // last stream id: the client accepts no server-initiated streams
    payload.writeUInt32BE(ERROR_NAMES.indexOf(error.code), 4);
    payload.write(error.message.slice(0, 200), 8, 'latin1');
    this.queue(frame(FRAME.GOAWAY, 0, 0, payload));
    this.flush();
    this.socket.end();
    this.fail(error);
  }

  /** Every open and waiting call fails with `error`; no new call is taken. */
  private fail(error: Error): void {
    const ready = this.ready;
    this.ready = undefined;
    ready?.(error);
    if (this.failed) return;
    this.failed = true;
    this.refusal ??= error;
    for (const call of [...this.calls.values()]) this.finish(call, error);
    this.failWaiting(error);
    this.blocked = [];
    if (!this.socket.writableEnded) this.socket.destroy();
  }

  /** Queues bytes for the socket: everything queued in one tick goes out in one write. */
  private queue(bytes: Buffer): void {
    this.out.push(bytes);
    this.outBytes += bytes.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.out.length === 0) return;
    const bytes = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    if (!this.socket.destroyed && !this.socket.writableEnded) this.socket.write(bytes);
  };
}

/** Answers a call; a callback that throws does not leave the connection's state half-updated. */
function deliver(done: CallDone, error: Error | undefined): void {
  try {
    done(error);
  } catch (thrown) {
    process.nextTick(() => {
      throw thrown;
    });
  }
}
