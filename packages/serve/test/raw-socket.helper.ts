import { connect, type Socket } from 'node:net';

/** A raw TCP connection to a test server, for what fetch cannot do: trickle, stall, half-send. */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves once the server's first response head and its Content-Length body have arrived. */
  response(): Promise<RawResponse>;
  /** Resolves once n whole responses have arrived (pipelined answers, in order). */
  responses(n: number): Promise<RawResponse[]>;
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
  write(data: string | Uint8Array): boolean;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function parseResponse(text: string): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = text.slice(end + 4);
  if (Buffer.byteLength(body) < length) return undefined;
  return { status: Number(statusLine!.split(' ')[1]), headers, body };
}

/** Every whole response at the start of `text`, in order (Content-Length bodies; latin1 text, one char a byte). */
export function parseResponses(text: string): RawResponse[] {
  const all: RawResponse[] = [];
  let rest = text;
  for (;;) {
    const headEnd = rest.indexOf('\r\n\r\n');
    // parseResponse counts the body in UTF-8 bytes, never fewer than latin1's: checked again below
    const parsed = headEnd < 0 ? undefined : parseResponse(rest);
    if (!parsed) return all;
    const bodyEnd = headEnd + 4 + Number(parsed.headers['content-length'] ?? 0);
    if (rest.length < bodyEnd) return all;
    all.push({ ...parsed, body: rest.slice(headEnd + 4, bodyEnd) });
    rest = rest.slice(bodyEnd);
  }
}

export function openRaw(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const waiting: (() => void)[] = [];
    const wake = () => {
      for (const w of waiting.splice(0)) w();
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      wake();
    });
    // the server may cut the connection while the client still writes: that is the point
    socket.on('error', () => {});
    const closed = new Promise<void>((done) =>
      socket.once('close', () => {
        wake();
        done();
      }),
    );
    socket.once('connect', () =>
      resolve({
        socket,
        closed,
        received: () => text,
        write: (data) => !socket.destroyed && socket.write(data),
        response: () =>
          new Promise<RawResponse>((done, fail) => {
            const check = () => {
              const parsed = parseResponse(text);
              if (parsed) return done(parsed);
              if (socket.destroyed) return fail(new Error(`connection closed without a response: ${text}`));
              waiting.push(check);
            };
            check();
          }),
        responses: (n) =>
          new Promise<RawResponse[]>((done, fail) => {
            const check = () => {
              const parsed = parseResponses(text);
              if (parsed.length >= n) return done(parsed.slice(0, n));
              if (socket.destroyed)
                return fail(new Error(`connection closed after ${parsed.length} responses: ${text}`));
              waiting.push(check);
            };
            check();
          }),
      }),
    );
    socket.once('error', reject);
  });
}
