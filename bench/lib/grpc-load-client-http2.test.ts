import {
  constants,
  createServer,
  type Http2Server,
  type Http2ServerOptions,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcLoadClient, grpcFrame } from './grpc-load-client.js';

/** The load generator's gRPC client against real node:http2 servers, each answering as a test needs. */
const open: { server: Http2Server; client: GrpcLoadClient }[] = [];
afterEach(async () => {
  for (const { server, client } of open.splice(0)) {
    client.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

type Answer = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: Buffer) => void;

/** A node:http2 server that reads each request whole, then answers it with `answer`. */
async function serve(answer: Answer, options: Http2ServerOptions = {}) {
  const server = createServer(options);
  const sessions: ServerHttp2Session[] = [];
  server.on('session', (session) => sessions.push(session));
  const sockets: Socket[] = [];
  server.on('connection', (socket: Socket) => sockets.push(socket));
  server.on('stream', (stream, headers) => {
    const parts: Buffer[] = [];
    stream.on('error', () => undefined); // a stream a test resets or destroys
    stream.on('data', (part: Buffer) => parts.push(part));
    stream.once('end', () => answer(stream, headers, Buffer.concat(parts)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = await GrpcLoadClient.open(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  open.push({ server, client });
  const call = (path: string, message = grpcFrame(Buffer.from('request'))) =>
    new Promise<Error | undefined>((resolve) => client.call(path, message, resolve));
  return { server, sessions, sockets, client, call };
}

/** A gRPC answer: headers, the message, then trailers with `grpcStatus`. */
function answerWith(stream: ServerHttp2Stream, message: Buffer, trailers: Record<string, string> = {}): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', ...trailers }));
  stream.end(message);
}
const ok: Answer = (stream) => answerWith(stream, grpcFrame(Buffer.from('answer')));

describe('load generator gRPC client against node:http2', () => {
  it('sends the request headers and message as a gRPC client does', async () => {
    const seen: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const { call } = await serve((stream, headers, body) => {
      seen.push({ headers, body });
      ok(stream, headers, body);
    });
    const message = grpcFrame(Buffer.from('the request'));
    expect(await call('/pkg.Service/Method', message)).toBeUndefined();
    expect(seen[0]!.headers).toMatchObject({
      ':method': 'POST',
      ':scheme': 'http',
      ':path': '/pkg.Service/Method',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    expect(seen[0]!.headers[':authority']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(seen[0]!.body.equals(message)).toBe(true);
  });

  it('fails a trailers-only answer with its grpc-status, a non-200 answer with its HTTP status, and trailers with an error', async () => {
    const { call } = await serve((stream, headers) => {
      if (headers[':path'] === '/trailers-only')
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '3', 'grpc-message': 'bad' },
          { endStream: true },
        );
      else if (headers[':path'] === '/http') stream.respond({ ':status': 503 }, { endStream: true });
      else if (headers[':path'] === '/trailers') answerWith(stream, Buffer.alloc(0), { 'grpc-status': '13' });
      else answerWith(stream, grpcFrame(Buffer.from('fine')));
    });
    // many times each, so that node's server answers from its dynamic table (indexed fields) too
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        ['/trailers-only', '/http', '/trailers', '/ok'].map((path) => call(path)),
      );
      expect(answers.map((error) => error?.message)).toEqual([
        'grpc-status 3',
        'HTTP 503',
        'grpc-status 13',
        undefined,
      ]);
    }
  });

  it("keeps to the server's default 64 KiB windows and 16 KiB frames: all calls finish, every byte arrives", async () => {
    const message = grpcFrame(Buffer.from(Array.from({ length: 40_000 }, (_, i) => i % 251)));
    let exact = 0;
    const { call } = await serve((stream, headers, body) => {
      if (body.equals(message)) exact++;
      ok(stream, headers, body);
    });
    // 50 calls of 40 kB: 2 MB in flight against a 64 KiB connection window
    const answers = await Promise.all(Array.from({ length: 50 }, () => call('/big', message)));
    expect(answers).toEqual(Array(50).fill(undefined));
    expect(exact).toBe(50);
  });

  it('reads answers larger than its receive windows (the connection and one stream), sending WINDOW_UPDATEs', async () => {
    const { call } = await serve((stream, headers) =>
      answerWith(stream, Buffer.alloc(headers[':path'] === '/huge' ? 20 * 2 ** 20 : 2 ** 20)),
    );
    // 40 MiB in all through a 16 MiB connection window; a few at a time, as node's server refuses
    // streams (ENHANCE_YOUR_CALM) past its maxSessionMemory of 10 MB unsent
    expect(await call('/huge')).toBeUndefined();
    for (let round = 0; round < 5; round++)
      expect(await Promise.all(Array.from({ length: 4 }, () => call('/big')))).toEqual(
        Array(4).fill(undefined),
      );
  });

  it("holds calls beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS until a stream closes", async () => {
    let active = 0;
    let most = 0;
    const { server, call } = await serve(
      (stream, headers, body) => {
        setImmediate(() => ok(stream, headers, body));
      },
      { settings: { maxConcurrentStreams: 2 } },
    );
    server.on('stream', (stream) => {
      most = Math.max(most, ++active);
      stream.once('close', () => active--);
    });
    expect(await Promise.all(Array.from({ length: 12 }, () => call('/x')))).toEqual(
      Array(12).fill(undefined),
    );
    expect(most).toBe(2);
  });

  it('fails a call the server resets (RST_STREAM), and goes on with the others', async () => {
    const { call } = await serve((stream, headers, body) => {
      if (headers[':path'] === '/reset') stream.close(constants.NGHTTP2_REFUSED_STREAM);
      else ok(stream, headers, body);
    });
    const answers = await Promise.all([call('/reset'), call('/ok'), call('/reset')]);
    expect(answers.map((error) => error?.message)).toEqual([
      'stream reset by the server (REFUSED_STREAM)',
      undefined,
      'stream reset by the server (REFUSED_STREAM)',
    ]);
    expect(await call('/ok')).toBeUndefined();
  });

  it('fails every open call and the calls after it on a GOAWAY with an error', async () => {
    const held: ServerHttp2Stream[] = [];
    const { call } = await serve((stream) => {
      held.push(stream);
      if (held.length === 3)
        stream.session!.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from('calm'));
    });
    const answers = await Promise.all([call('/a'), call('/b'), call('/c')]);
    expect(answers.map((error) => error?.message)).toEqual(
      Array(3).fill('the server sent GOAWAY (ENHANCE_YOUR_CALM: calm)'),
    );
    expect((await call('/d'))?.message).toBe('the server sent GOAWAY (ENHANCE_YOUR_CALM: calm)');
  });

  it('after a graceful GOAWAY, finishes the calls the server still answers and refuses new ones', async () => {
    const held: ServerHttp2Stream[] = [];
    const { call } = await serve((stream, headers, body) => {
      held.push(stream);
      if (held.length < 3) return;
      stream.session!.close(); // GOAWAY NO_ERROR; the open streams may finish
      setImmediate(() => {
        for (const open of held) ok(open, headers, body);
      });
    });
    expect(await Promise.all([call('/a'), call('/b'), call('/c')])).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect((await call('/d'))?.message).toMatch(/^the server sent GOAWAY \(NO_ERROR/);
  });

  it("answers the server's PING and reads a header block split into CONTINUATION frames", async () => {
    const { sessions, call } = await serve((stream, _headers, body) =>
      answerWith(stream, body, { 'x-big': 'x'.repeat(40_000) }),
    );
    expect(await call('/big-trailers')).toBeUndefined();
    const pong = await new Promise<Error | null>((resolve) => sessions[0]!.ping((error) => resolve(error)));
    expect(pong).toBeNull();
  });

  it('fails the open calls and every later one when the server closes the connection', async () => {
    let requests = 0;
    const { sockets, call } = await serve(() => {
      if (++requests === 2) sockets[0]!.destroy(); // the TCP connection drops, no GOAWAY
    });
    const answers = await Promise.all([call('/a'), call('/b')]);
    expect(answers.map((error) => error?.message)).toEqual([
      'HTTP/2 connection closed',
      'HTTP/2 connection closed',
    ]);
    expect((await call('/c'))?.message).toBe('HTTP/2 connection closed');
  });
});
