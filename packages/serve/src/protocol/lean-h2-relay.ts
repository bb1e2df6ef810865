import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants as h2,
  type IncomingHttpHeaders,
  type IncomingHttpStatusHeader,
} from 'node:http2';
import { GRPC_WINDOW_BYTES } from '../limits.js';
import { type HeaderField, literalHeaderBlock } from './hpack.js';
import type { LeanH2Connection } from './lean-h2-connection.js';
import { type H2Headers, LeanH2Stream } from './lean-h2-stream.js';

/** Answer bytes queued for a slow client past which the relay stops reading grpc-js's answer. */
const HIGH_WATER_BYTES = 1024 * 1024;

/**
 * One lean connection's way to grpc-js: a node:http2 client session to grpc-js's server on its
 * internal loopback port, opened with the first relayed stream, and again after grpc-js ends it
 * (its idle limit, a GOAWAY).
 */
export class UpstreamSession {
  private session: ClientHttp2Session | undefined;

  constructor(private readonly authority: string) {}

  /** A request on the session: a new session where the last one is gone or going away. */
  request(headers: Record<string, string>): ClientHttp2Stream {
    for (let attempt = 0; ; attempt++) {
      const session = this.open();
      try {
        return session.request(headers, { endStream: false });
      } catch (error) {
        // ERR_HTTP2_GOAWAY_SESSION / ERR_HTTP2_INVALID_SESSION: once more on a new session
        if (attempt > 0 || !(session.closed || session.destroyed)) throw error;
        this.session = undefined;
      }
    }
  }

  close(): void {
    this.session?.destroy();
    this.session = undefined;
  }

  private open(): ClientHttp2Session {
    const existing = this.session;
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = connect(this.authority, { settings: { initialWindowSize: GRPC_WINDOW_BYTES } });
    session.on('error', () => undefined); // each stream's 'close' says what its client needs to know
    session.once('connect', () => session.setLocalWindowSize(GRPC_WINDOW_BYTES));
    session.once('close', () => {
      if (this.session === session) this.session = undefined;
    });
    session.on('goaway', () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    return session;
  }
}

/**
 * A stream the front does not answer itself (another method, a compressed message, anything
 * unusual), relayed to grpc-js unchanged: the request's headers and DATA up (its window given
 * back to the client as grpc-js takes the bytes), the answer's headers, DATA and trailers down
 * (grpc-js's reading paused while the client's windows keep too much queued), and a reset either
 * way.
 */
export class RelayStream extends LeanH2Stream {
  private upstream: ClientHttp2Stream | undefined;
  private paused = false;
  private endQueued = false;
  /** Closed on the client's side: nothing more is written for it. */
  private gone = false;

  constructor(
    connection: LeanH2Connection,
    id: number,
    private readonly headers: H2Headers,
    private readonly session: UpstreamSession,
  ) {
    super(connection, id);
  }

  override start(): void {
    let upstream: ClientHttp2Stream;
    try {
      upstream = this.session.request({ ...this.headers });
    } catch {
      // node:http2 refuses what it cannot send (a header value it will not write): a malformed request
      this.connection.resetStream(this.id, 'PROTOCOL_ERROR');
      return;
    }
    this.upstream = upstream;
    upstream.on('error', () => undefined); // 'close' follows, with the code
    upstream.on('response', (headers: IncomingHttpHeaders & IncomingHttpStatusHeader, flags: number) => {
      const end = (flags & h2.NGHTTP2_FLAG_END_STREAM) !== 0;
      this.endQueued ||= end;
      this.output.headers(headerBlock(headers), end);
      this.connection.flush(this);
    });
    upstream.on('data', (chunk: Buffer) => {
      this.output.data(chunk, false);
      this.connection.flush(this);
      if (this.output.bytes > HIGH_WATER_BYTES && !this.paused) {
        this.paused = true;
        upstream.pause();
      }
    });
    upstream.on('trailers', (headers: IncomingHttpHeaders) => {
      this.endQueued = true;
      this.output.headers(headerBlock(headers), true);
      this.connection.flush(this);
    });
    upstream.once('end', () => {
      if (this.endQueued) return;
      this.endQueued = true;
      this.output.data(Buffer.alloc(0), true);
      this.connection.flush(this);
    });
    upstream.once('close', () => {
      if (this.endQueued || this.gone) return;
      // grpc-js reset the stream (or its session went away): the client gets the same code
      const code =
        upstream.rstCode && upstream.rstCode !== h2.NGHTTP2_NO_ERROR
          ? upstream.rstCode
          : h2.NGHTTP2_INTERNAL_ERROR;
      this.connection.resetStream(this.id, code);
    });
  }

  data(body: Buffer, end: boolean): void {
    const upstream = this.upstream;
    if (!upstream) return;
    if (body.length > 0) {
      const bytes = body.length;
      // copied: the frame reader's chunk is not ours past this frame, and node may hold it
      upstream.write(Buffer.from(body), () => this.connection.credit(this, bytes));
    }
    if (end) upstream.end();
  }

  override drained(queued: number): void {
    if (this.paused && queued <= HIGH_WATER_BYTES / 2) {
      this.paused = false;
      this.upstream?.resume();
    }
  }

  ended(code: number): void {
    this.gone = true;
    const upstream = this.upstream;
    if (!upstream || upstream.closed || upstream.destroyed) return;
    upstream.close(code === 0 ? h2.NGHTTP2_NO_ERROR : code);
  }
}

/** grpc-js's response headers or trailers as one HPACK block: `:status` first, literal fields, never indexed. */
function headerBlock(headers: IncomingHttpHeaders): Buffer {
  const fields: HeaderField[] = [];
  const status = headers[':status'];
  if (status !== undefined) fields.push([':status', String(status)]);
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    if (Array.isArray(value)) for (const one of value) fields.push([name, one]);
    else fields.push([name, String(value)]);
  }
  return literalHeaderBlock(fields);
}
