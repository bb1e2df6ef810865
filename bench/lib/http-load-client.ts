/**
 * A lean HTTP/1.1 keep-alive client for the load generator: one socket per simulated client, a
 * request prebuilt once as bytes, and responses read only as far as the status and the
 * Content-Length that frames them. node:http's client costs ~35 µs of CPU per request on this
 * machine, which the server under test then loses on the same cores; load generators built for
 * this (wrk, autocannon) work the same way as this one.
 */
import { connect, type Socket } from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');
/** A response head larger than this is an error, not something to buffer forever. */
const MAX_HEAD_BYTES = 64 * 1024;

export interface HttpRequestSpec {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body: Buffer;
}

/** The request's bytes: request line, headers (Host and Content-Length added), blank line, body. */
export function encodeRequest(host: string, spec: HttpRequestSpec): Buffer {
  const lines = [`${spec.method} ${spec.path} HTTP/1.1`, `host: ${host}`];
  for (const [name, value] of Object.entries(spec.headers)) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${spec.body.length}`, '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), spec.body]);
}

/** Status and body length from a response head (status line and headers, no blank line). */
export function parseResponseHead(head: string): { status: number; length: number } {
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!status) throw new Error(`not an HTTP/1.1 response: ${JSON.stringify(head.slice(0, 40))}`);
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  if (!length) throw new Error('response without Content-Length (chunked bodies are not read)');
  return { status: Number(status[1]), length: Number(length[1]) };
}

/**
 * One keep-alive connection sending `request` again each time the previous response is whole:
 * `send(done)` writes it, and `done(status)` is called once its response has been read.
 */
export class LoadConnection {
  private head: Buffer | undefined; // bytes of a response head split across reads
  private remaining = -1; // body bytes still to skip; -1 while reading a head
  private status = 0;
  private closed = false;
  private done: ((error: Error | undefined, status: number) => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly request: Buffer,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', (error) => this.finish(error));
    socket.on('close', () => {
      this.closed = true;
      this.finish(new Error('connection closed'));
    });
  }

  static open(host: string, port: number, request: Buffer): Promise<LoadConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new LoadConnection(socket, request));
      });
      socket.once('error', reject);
    });
  }

  send(done: (error: Error | undefined, status: number) => void): void {
    // a closed socket would swallow the write: answer at once, so no caller waits forever
    if (this.closed) {
      process.nextTick(done, new Error('connection closed'), 0);
      return;
    }
    this.done = done;
    this.socket.write(this.request);
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    let at = 0;
    for (;;) {
      if (this.remaining < 0) {
        if (at >= chunk.length) return;
        const bytes = this.head ? Buffer.concat([this.head, chunk.subarray(at)]) : chunk.subarray(at);
        const end = bytes.indexOf(HEAD_END);
        if (end < 0) {
          if (bytes.length > MAX_HEAD_BYTES) this.fail(new Error('response head too large'));
          else this.head = Buffer.from(bytes); // kept until the rest of the head arrives
          return;
        }
        this.head = undefined;
        try {
          const parsed = parseResponseHead(bytes.toString('latin1', 0, end));
          this.status = parsed.status;
          this.remaining = parsed.length;
        } catch (error) {
          this.fail(error as Error);
          return;
        }
        // go on in `bytes`, which may be the head joined with this chunk
        chunk = bytes;
        at = end + HEAD_END.length;
      }
      const take = Math.min(this.remaining, chunk.length - at);
      this.remaining -= take;
      at += take;
      if (this.remaining > 0) return; // the body goes on in the next read
      this.remaining = -1;
      this.finish(undefined);
    }
  }

  /** A response this client cannot frame: the connection is out of step, so it is closed. */
  private fail(error: Error): void {
    this.closed = true;
    this.finish(error);
    this.socket.destroy();
  }

  private finish(error: Error | undefined): void {
    const done = this.done;
    this.done = undefined;
    done?.(error, this.status);
  }
}
