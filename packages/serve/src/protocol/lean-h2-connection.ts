import type { Socket } from 'node:net';
import { GRPC_MAX_CONCURRENT_STREAMS, GRPC_MAX_CONNECTION_IDLE_MS, GRPC_WINDOW_BYTES } from '../limits.js';
import {
  CLIENT_PREFACE,
  DEFAULT_WINDOW,
  ERROR_NAMES,
  type ErrorName,
  errorCode,
  FLAG,
  FRAME,
  FRAME_HEADER_BYTES,
  FrameReader,
  frame,
  frameSizeError,
  H2ConnectionError,
  MAX_MAX_FRAME_BYTES,
  MAX_WINDOW,
  MIN_MAX_FRAME_BYTES,
  protocolError,
  rstStream,
  SETTING,
  unpadded,
  windowUpdate,
  writeFrameHeader,
} from './h2-frames.js';
import { HpackDecoder, HpackError } from './hpack.js';
import { goAwayFrame, KeepAlive, SERVER_SETTINGS, SETTINGS_ACK } from './lean-h2-control.js';
import { FloodGuard } from './lean-h2-flood.js';
import { headerObject } from './lean-h2-headers.js';
import type { H2Headers, LeanH2Stream } from './lean-h2-stream.js';
import { H2SocketWriter } from './lean-h2-writer.js';

/** What a lean connection needs from its front: a stream for each request, and its limits. */
export interface LeanH2Host {
  /** A handler for a new stream whose request headers are `headers` (the front answers or relays it). */
  open(connection: LeanH2Connection, id: number, headers: H2Headers): LeanH2Stream;
  /** Time to receive the preface and first SETTINGS, and each header block. */
  readonly requestTimeoutMs: number;
  /** The connection ended (closed or destroyed). */
  closed(connection: LeanH2Connection): void;
}

/** The header block size a client may send (the list's is SETTINGS_MAX_HEADER_LIST_SIZE, lean-h2-headers.ts). */
const MAX_HEADER_BLOCK_BYTES = 64 * 1024;
/** CONTINUATION frames one header block may take (CVE-2024-27316-style floods): 64 KiB fits in 4 of the least size. */
const MAX_CONTINUATIONS = 16;
/** Answers the peer has not read: past this the connection is cut (a client that floods PINGs and never reads). */
const MAX_UNREAD_CONTROL_BYTES = 16 * 2 ** 20;

const EMPTY = Buffer.alloc(0);

/** A header block being received: HEADERS then CONTINUATIONs until END_HEADERS. */
interface PendingBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  chunks: Buffer[];
  bytes: number;
  continuations: number;
  /** A block left unfinished this long ends the connection (a slow-header attack holds no stream open). */
  deadline?: NodeJS.Timeout;
}

/**
 * One client connection of the lean gRPC front, on its raw socket: HTTP/2 (RFC 9113) as a server
 * speaks it. It reads frames (h2-frames.ts), decodes header blocks (hpack.ts, with hard limits on
 * block, list and table sizes), keeps each stream's state and both directions' flow control, and
 * hands each stream's headers, DATA and reset to the stream the host opens for it (lean-h2-stream.ts).
 * What a client gets wrong is answered as RFC 9113 says: a stream error with RST_STREAM, a
 * connection error with GOAWAY and the right code, floods of resets, empty frames or header
 * fragments with GOAWAY ENHANCE_YOUR_CALM (lean-h2-flood.ts).
 */
export class LeanH2Connection {
  private readonly reader = new FrameReader(MIN_MAX_FRAME_BYTES);
  private readonly decoder = new HpackDecoder();
  private readonly streams = new Map<number, LeanH2Stream>();
  /** Streams with DATA waiting for window, in the order they blocked. */
  private readonly blocked = new Set<LeanH2Stream>();
  private readonly flood = new FloodGuard();
  private preface: Buffer | undefined = Buffer.alloc(0);
  private settingsSeen = false;
  private block: PendingBlock | undefined;
  private lastClientStream = 0;
  /** The connection's windows: what we may send, what the client may still send us. */
  sendWindow = DEFAULT_WINDOW;
  private receiveWindow = GRPC_WINDOW_BYTES;
  private receiveCredit = 0;
  /** The client's SETTINGS: each new stream's send window, the largest DATA frame it takes. */
  initialSendWindow = DEFAULT_WINDOW;
  maxFrameBytes = MIN_MAX_FRAME_BYTES;
  private goingAway = false;
  private dead = false;
  private readonly writer: H2SocketWriter;
  private timer: NodeJS.Timeout | undefined;
  private readonly keepalive = new KeepAlive(
    () => this.write(frame(FRAME.PING, 0, 0, Buffer.alloc(8))),
    () => this.socket.destroy(),
  );

  constructor(
    readonly socket: Socket,
    private readonly host: LeanH2Host,
  ) {
    socket.setNoDelay(true);
    this.writer = new H2SocketWriter(socket);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => this.teardown());
    this.write(SERVER_SETTINGS);
    this.arm(host.requestTimeoutMs, () => this.socket.destroy());
  }

  /** Open streams: the drain waits for them. */
  get openStreams(): number {
    return this.streams.size;
  }

  // ---- input ----

  receive(chunk: Buffer): void {
    if (this.dead) return;
    this.socket.cork();
    try {
      let bytes = chunk;
      if (this.preface) {
        bytes = this.readPreface(chunk);
        if (this.preface) return;
      }
      this.reader.push(bytes, (type, flags, streamId, payload) => {
        if (!this.dead) this.frame(type, flags, streamId, payload);
      });
    } catch (error) {
      if (error instanceof H2ConnectionError) this.fail(error.code, error.message);
      else if (error instanceof HpackError) this.fail('COMPRESSION_ERROR', error.message);
      else this.fail('INTERNAL_ERROR', 'internal error');
    } finally {
      this.socket.uncork();
    }
  }

  private readPreface(chunk: Buffer): Buffer {
    const seen = Buffer.concat([this.preface!, chunk]);
    const compared = Math.min(seen.length, CLIENT_PREFACE.length);
    if (!seen.subarray(0, compared).equals(CLIENT_PREFACE.subarray(0, compared)))
      throw protocolError('not the HTTP/2 client preface');
    if (seen.length < CLIENT_PREFACE.length) {
      this.preface = seen;
      return Buffer.alloc(0);
    }
    this.preface = undefined;
    return seen.subarray(CLIENT_PREFACE.length);
  }

  private frame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (!this.settingsSeen && type !== FRAME.SETTINGS) throw protocolError('the first frame is not SETTINGS');
    if (this.block && type !== FRAME.CONTINUATION)
      throw protocolError(`a frame of type ${type} inside a header block`);
    switch (type) {
      case FRAME.DATA:
        this.data(flags, streamId, payload);
        return;
      case FRAME.HEADERS:
        this.headers(flags, streamId, payload);
        return;
      case FRAME.CONTINUATION:
        this.continuation(flags, streamId, payload);
        return;
      case FRAME.RST_STREAM:
        this.reset(streamId, payload);
        return;
      case FRAME.SETTINGS:
        this.settings(flags, streamId, payload);
        return;
      case FRAME.PING:
        this.ping(flags, streamId, payload);
        return;
      case FRAME.GOAWAY:
        if (streamId !== 0) throw protocolError('GOAWAY on a stream');
        this.goingAway = true;
        this.closeIfDone();
        return;
      case FRAME.WINDOW_UPDATE:
        this.windowUpdate(streamId, payload);
        return;
      case FRAME.PUSH_PROMISE:
        throw protocolError('PUSH_PROMISE from a client');
      case FRAME.PRIORITY:
        if (streamId === 0) throw protocolError('PRIORITY on stream 0');
        if (payload.length !== 5) {
          this.resetStream(streamId, 'FRAME_SIZE_ERROR', true);
          return;
        }
        this.flood.unproductive();
        return;
      default:
        this.flood.unproductive();
        return; // unknown frame types are ignored (RFC 9113 4.1)
    }
  }

  private data(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw protocolError('DATA on stream 0');
    if (streamId > this.lastClientStream) throw protocolError(`DATA on idle stream ${streamId}`);
    const length = payload.length;
    if (length > this.receiveWindow)
      throw new H2ConnectionError('FLOW_CONTROL_ERROR', 'DATA beyond the window');
    this.receiveWindow -= length;
    const stream = this.streams.get(streamId);
    const body = unpadded(flags, payload, 'DATA');
    const end = (flags & FLAG.END_STREAM) !== 0;
    if (!stream || stream.remoteEnded) {
      this.credit(undefined, length);
      if (stream) this.resetStream(streamId, 'STREAM_CLOSED', true);
      else this.flood.unproductive();
      return;
    }
    if (length > stream.receiveWindow) {
      this.credit(undefined, length);
      this.resetStream(streamId, 'FLOW_CONTROL_ERROR', true);
      return;
    }
    stream.receiveWindow -= length;
    if (length === 0 && !end) this.flood.unproductive();
    // padding is flow-controlled but never reaches the stream: its credit is given back now
    if (length > body.length) this.credit(stream, length - body.length);
    if (end) stream.remoteEnded = true;
    stream.data(body, end);
    if (end) this.closeIfEnded(stream);
  }

  private headers(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0 || streamId % 2 === 0) throw protocolError(`HEADERS on stream ${streamId}`);
    let fragment = unpadded(flags, payload, 'HEADERS');
    if (flags & FLAG.PRIORITY) {
      if (fragment.length < 5) throw frameSizeError('HEADERS priority', fragment.length);
      if ((fragment.readUInt32BE(0) & MAX_WINDOW) === streamId)
        throw protocolError('a stream depends on itself');
      fragment = fragment.subarray(5);
    }
    this.block = {
      streamId,
      endStream: (flags & FLAG.END_STREAM) !== 0,
      chunks: [],
      bytes: 0,
      continuations: 0,
    };
    this.fragment(flags, fragment);
  }

  private continuation(flags: number, streamId: number, payload: Buffer): void {
    const block = this.block;
    if (!block || block.streamId !== streamId) throw protocolError('CONTINUATION without its HEADERS');
    if (++block.continuations > MAX_CONTINUATIONS)
      throw new H2ConnectionError(
        'ENHANCE_YOUR_CALM',
        `a header block of over ${MAX_CONTINUATIONS} CONTINUATIONs`,
      );
    this.fragment(flags, payload);
  }

  private fragment(flags: number, fragment: Buffer): void {
    const block = this.block!;
    block.bytes += fragment.length;
    if (block.bytes > MAX_HEADER_BLOCK_BYTES)
      throw new H2ConnectionError('ENHANCE_YOUR_CALM', `a header block over ${MAX_HEADER_BLOCK_BYTES} bytes`);
    // kept as a copy: the frame reader's chunk is not ours past this frame
    block.chunks.push(Buffer.from(fragment));
    if (!(flags & FLAG.END_HEADERS)) {
      block.deadline ??= setTimeout(
        () => this.fail('ENHANCE_YOUR_CALM', 'a header block left unfinished'),
        this.host.requestTimeoutMs,
      ).unref();
      return;
    }
    if (block.deadline) clearTimeout(block.deadline);
    this.block = undefined;
    // decoded even for a stream that is refused: the dynamic table must stay in step (RFC 7541 2.2)
    const fields = this.decoder.decode(Buffer.concat(block.chunks, block.bytes));
    this.headerBlock(block.streamId, block.endStream, fields);
  }

  private headerBlock(id: number, endStream: boolean, fields: readonly (readonly [string, string])[]): void {
    const open = this.streams.get(id);
    if (open) {
      // trailers: a gRPC client sends none, but they are legal; they must end the stream
      if (!endStream || open.remoteEnded) {
        this.resetStream(id, 'PROTOCOL_ERROR', true);
        return;
      }
      open.remoteEnded = true;
      open.data(EMPTY, true);
      this.closeIfEnded(open);
      return;
    }
    if (id <= this.lastClientStream)
      throw new H2ConnectionError('STREAM_CLOSED', `HEADERS on closed stream ${id}`);
    this.lastClientStream = id;
    if (this.goingAway) return; // above the GOAWAY's last stream: ignored (RFC 9113 6.8)
    const headers = headerObject(fields);
    if (!headers) {
      this.resetStream(id, 'PROTOCOL_ERROR', true);
      return;
    }
    if (this.streams.size >= GRPC_MAX_CONCURRENT_STREAMS) {
      this.resetStream(id, 'REFUSED_STREAM', true);
      return;
    }
    this.disarm();
    const stream = this.host.open(this, id, headers);
    stream.sendWindow = this.initialSendWindow;
    this.streams.set(id, stream);
    stream.start();
    if (endStream && this.streams.has(id)) {
      stream.remoteEnded = true;
      stream.data(EMPTY, true);
      this.closeIfEnded(stream);
    }
  }

  private reset(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw frameSizeError('RST_STREAM', payload.length);
    if (streamId === 0) throw protocolError('RST_STREAM on stream 0');
    if (streamId > this.lastClientStream) throw protocolError(`RST_STREAM on idle stream ${streamId}`);
    this.flood.reset();
    const stream = this.streams.get(streamId);
    if (stream) this.close(stream, payload.readUInt32BE(0));
  }

  private settings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw protocolError('SETTINGS on a stream');
    if (flags & FLAG.ACK) {
      if (payload.length !== 0) throw frameSizeError('SETTINGS ACK', payload.length);
      return;
    }
    if (payload.length % 6 !== 0) throw frameSizeError('SETTINGS', payload.length);
    if (!this.settingsSeen) this.idle(); // the preface's deadline met: from now on the idle limit
    this.settingsSeen = true;
    for (let at = 0; at < payload.length; at += 6) {
      const value = payload.readUInt32BE(at + 2);
      switch (payload.readUInt16BE(at)) {
        case SETTING.ENABLE_PUSH:
          if (value > 1) throw protocolError(`ENABLE_PUSH ${value}`);
          break;
        case SETTING.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW)
            throw new H2ConnectionError('FLOW_CONTROL_ERROR', `INITIAL_WINDOW_SIZE ${value}`);
          const delta = value - this.initialSendWindow;
          this.initialSendWindow = value;
          for (const stream of this.streams.values()) {
            stream.sendWindow += delta;
            if (stream.sendWindow > MAX_WINDOW)
              throw new H2ConnectionError('FLOW_CONTROL_ERROR', 'a stream window over 2^31-1');
          }
          break;
        }
        case SETTING.MAX_FRAME_SIZE:
          if (value < MIN_MAX_FRAME_BYTES || value > MAX_MAX_FRAME_BYTES)
            throw protocolError(`MAX_FRAME_SIZE ${value}`);
          this.maxFrameBytes = value;
          break;
        // HEADER_TABLE_SIZE: the front never indexes what it sends; the rest are advisory or unknown
      }
    }
    this.control(SETTINGS_ACK);
    this.flood.unproductive();
    this.flushBlocked();
  }

  private ping(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw protocolError('PING on a stream');
    if (payload.length !== 8) throw frameSizeError('PING', payload.length);
    if (flags & FLAG.ACK) {
      this.keepalive.acked();
      return;
    }
    this.flood.unproductive();
    this.control(frame(FRAME.PING, FLAG.ACK, 0, payload));
  }

  private windowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw frameSizeError('WINDOW_UPDATE', payload.length);
    const increment = payload.readUInt32BE(0) & MAX_WINDOW;
    if (streamId === 0) {
      if (increment === 0) throw protocolError('WINDOW_UPDATE of 0');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW)
        throw new H2ConnectionError('FLOW_CONTROL_ERROR', 'the connection window over 2^31-1');
      this.flushBlocked();
      return;
    }
    if (streamId > this.lastClientStream) throw protocolError(`WINDOW_UPDATE on idle stream ${streamId}`);
    const stream = this.streams.get(streamId);
    if (!stream) return;
    if (increment === 0) {
      this.resetStream(streamId, 'PROTOCOL_ERROR', true);
      return;
    }
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) {
      this.resetStream(streamId, 'FLOW_CONTROL_ERROR', true);
      return;
    }
    this.flush(stream);
  }

  // ---- flow control of what the client sends ----

  /**
   * Gives back `bytes` of receive window once a stream's handler has taken them: the connection's
   * (and the stream's while it still sends) in one WINDOW_UPDATE each once half a window is owed,
   * as nghttp2 does.
   */
  credit(stream: LeanH2Stream | undefined, bytes: number): void {
    if (this.dead || bytes === 0) return;
    this.receiveCredit += bytes;
    if (this.receiveCredit >= GRPC_WINDOW_BYTES / 2) {
      this.write(windowUpdate(0, this.receiveCredit));
      this.receiveWindow += this.receiveCredit;
      this.receiveCredit = 0;
    }
    if (!stream || stream.remoteEnded || !this.streams.has(stream.id)) return;
    stream.receiveCredit += bytes;
    if (stream.receiveCredit >= GRPC_WINDOW_BYTES / 2) {
      this.write(windowUpdate(stream.id, stream.receiveCredit));
      stream.receiveWindow += stream.receiveCredit;
      stream.receiveCredit = 0;
    }
  }

  // ---- output ----

  /** Sends what `stream` has queued (HEADERS, DATA, trailers) as far as the windows allow. */
  flush(stream: LeanH2Stream): void {
    if (this.dead || !this.streams.has(stream.id)) return;
    const output = stream.output;
    for (;;) {
      const item = output.peek();
      if (!item) break;
      if (item.kind === 'headers') {
        output.shift();
        this.writeHeaders(stream.id, item.block, item.end);
        if (item.end) stream.localEnded = true;
        continue;
      }
      const left = item.data.length - item.sent;
      const size = Math.min(left, this.sendWindow, stream.sendWindow, this.maxFrameBytes);
      if (size <= 0 && left > 0) {
        this.blocked.add(stream);
        return;
      }
      const last = size === left;
      const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
      writeFrameHeader(head, 0, size, FRAME.DATA, last && item.end ? FLAG.END_STREAM : 0, stream.id);
      this.write(head);
      if (size > 0) this.write(item.data.subarray(item.sent, item.sent + size));
      this.sendWindow -= size;
      stream.sendWindow -= size;
      item.sent += size;
      if (!last) continue;
      output.shift();
      if (item.end) stream.localEnded = true;
      stream.drained(output.bytes);
    }
    this.blocked.delete(stream);
    if (stream.localEnded) this.closeIfEnded(stream);
  }

  private flushBlocked(): void {
    for (const stream of [...this.blocked]) {
      if (this.sendWindow <= 0) return;
      this.flush(stream);
    }
  }

  /** HEADERS, then CONTINUATIONs for what does not fit in the client's largest frame. */
  private writeHeaders(id: number, block: Buffer, end: boolean): void {
    const endFlag = end ? FLAG.END_STREAM : 0;
    if (block.length <= this.maxFrameBytes) {
      const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + block.length);
      writeFrameHeader(out, 0, block.length, FRAME.HEADERS, endFlag | FLAG.END_HEADERS, id);
      block.copy(out, FRAME_HEADER_BYTES);
      this.write(out);
      return;
    }
    for (let at = 0; at < block.length; at += this.maxFrameBytes) {
      const piece = block.subarray(at, at + this.maxFrameBytes);
      const lastPiece = at + this.maxFrameBytes >= block.length;
      const type = at === 0 ? FRAME.HEADERS : FRAME.CONTINUATION;
      this.write(frame(type, (at === 0 ? endFlag : 0) | (lastPiece ? FLAG.END_HEADERS : 0), id, piece));
    }
  }

  /**
   * Resets a stream from the server's side (RST_STREAM `code`). `counted`: the client's fault, counted
   * against reset floods (only while reading its frames: over the limit this throws the GOAWAY).
   */
  resetStream(id: number, code: ErrorName | number, counted = false): void {
    if (typeof code === 'number') code = ERROR_NAMES[code] ?? 'INTERNAL_ERROR';
    if (this.dead) return;
    this.write(rstStream(id, code));
    const stream = this.streams.get(id);
    if (stream) this.close(stream, errorCode(code));
    if (counted) this.flood.reset();
  }

  /** Writes, corked until the end of this tick (H2SocketWriter, which also pauses reading for an unread peer). */
  write(bytes: Buffer): void {
    if (!this.dead) this.writer.write(bytes);
  }

  /** A reply the client asked for (PING, SETTINGS ACK): a client that never reads them is cut. */
  private control(bytes: Buffer): void {
    if (this.socket.writableLength > MAX_UNREAD_CONTROL_BYTES)
      throw new H2ConnectionError('ENHANCE_YOUR_CALM', 'control replies left unread');
    this.write(bytes);
  }

  // ---- stream and connection ends ----

  private closeIfEnded(stream: LeanH2Stream): void {
    if (stream.remoteEnded && stream.localEnded) this.close(stream, 0);
  }

  /** Closes a stream: ended both ways (`code` 0) or reset (by the client, the server, or the connection's end). */
  private close(stream: LeanH2Stream, code: number): void {
    if (!this.streams.delete(stream.id)) return;
    this.blocked.delete(stream);
    stream.ended(code);
    if (this.streams.size === 0) this.idle();
    this.closeIfDone();
  }

  /** Graceful close (drain): GOAWAY NO_ERROR, open streams finish, then the socket ends. */
  goAway(): void {
    if (this.dead || this.goingAway) return;
    this.goingAway = true;
    this.write(goAwayFrame(this.lastClientStream, 'NO_ERROR'));
    this.closeIfDone();
  }

  private closeIfDone(): void {
    if (this.goingAway && this.streams.size === 0 && !this.dead) {
      this.dead = true;
      this.socket.end();
    }
  }

  /** A connection error: GOAWAY with its code, every stream cut, the socket ended. */
  fail(code: ErrorName, _reason: string): void {
    if (this.dead) return;
    this.socket.write(goAwayFrame(this.lastClientStream, code));
    this.dead = true;
    this.socket.end();
    // a peer that never reads does not hold the socket open
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.teardown();
  }

  /** Cuts at once (the drain deadline). */
  destroy(): void {
    this.socket.destroy();
  }

  private teardown(): void {
    this.dead = true;
    this.disarm();
    this.keepalive.stop();
    if (this.block?.deadline) clearTimeout(this.block.deadline);
    for (const stream of [...this.streams.values()]) this.close(stream, errorCode('CANCEL'));
    this.host.closed(this);
  }

  private idle(): void {
    this.arm(GRPC_MAX_CONNECTION_IDLE_MS, () => this.goAway());
  }

  private arm(ms: number, then: () => void): void {
    this.disarm();
    this.timer = setTimeout(then, ms);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
