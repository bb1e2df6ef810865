import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/server.js';
import { EXPECTED, FIXTURES, startTestServer, type TestServer } from './test-server.helper.js';
import { openRaw, parseResponses, type RawConnection, type RawResponse } from './raw-socket.helper.js';

/**
 * The lean HTTP/1.1 transport (lean-http-transport.ts) over real sockets: plain infer requests
 * are answered from the socket, pipelined or split at every byte, in order; anything else is
 * handed, with the bytes read so far, to node:http, whose parser and fastify answer as they always
 * did, and every request smuggling form (CL+TE, two lengths, obs-fold, bare LF) is node's call.
 */
let t: TestServer;
let port: number;
const open: RawConnection[] = [];
const raw = async () => {
  const c = await openRaw(port);
  open.push(c);
  return c;
};

beforeAll(async () => {
  t = await startTestServer(FIXTURES);
  port = t.server.httpPort!;
});
afterAll(async () => {
  for (const c of open) c.socket.destroy();
  await t.close();
});

const x = EXPECTED.mlp.inputs.x;
const jsonBody = JSON.stringify({ inputs: [{ name: 'x', shape: x.shape, datatype: 'FP32', data: x.data }] });
const binaryHeader = JSON.stringify({
  inputs: [
    { name: 'x', shape: x.shape, datatype: 'FP32', parameters: { binary_data_size: x.data.length * 4 } },
  ],
  parameters: { binary_data_output: true },
});
const binaryBody = Buffer.concat([
  Buffer.from(binaryHeader),
  Buffer.from(Float32Array.from(x.data as number[]).buffer),
]).toString('latin1');
const badBody = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] });

/** An infer request's bytes (latin1: one char a byte), with extra header lines if given. */
function infer(id: string, body = jsonBody, extra = '', path = '/v2/models/mlp/infer'): string {
  const binary = body === binaryBody ? `Inference-Header-Content-Length: ${binaryHeader.length}\r\n` : '';
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: ${id}\r\n${binary}${extra}Content-Length: ${body.length}\r\n\r\n${body}`;
}

const writeLatin1 = (c: RawConnection, text: string) => c.write(Buffer.from(text, 'latin1'));

/** The answer fastify's route gives to the same request sent chunked (node:http reads it all). */
async function routed(id: string, body: string): Promise<RawResponse> {
  const c = await raw();
  const bytes = Buffer.from(body, 'latin1');
  const binary = body === binaryBody ? `Inference-Header-Content-Length: ${binaryHeader.length}\r\n` : '';
  writeLatin1(
    c,
    `POST /v2/models/mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: ${id}\r\n${binary}Transfer-Encoding: chunked\r\n\r\n${bytes.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
  );
  const answer = await c.response();
  c.socket.destroy();
  return answer;
}

/** What must match between two answers (the Date may tick between them). */
const comparable = (r: RawResponse) => {
  const { date: _date, ...headers } = r.headers;
  return { status: r.status, headers, body: r.body };
};

describe('the lean transport answers plain infer requests from the socket', () => {
  it('answers pipelined requests in order, then keeps the connection', async () => {
    const c = await raw();
    writeLatin1(c, infer('p1') + infer('p2', binaryBody) + infer('p3', badBody));
    const [one, two, three] = await c.responses(3);
    expect([one!.status, two!.status, three!.status]).toEqual([200, 200, 400]);
    expect([
      one!.headers['x-request-id'],
      two!.headers['x-request-id'],
      three!.headers['x-request-id'],
    ]).toEqual(['p1', 'p2', 'p3']);
    expect(comparable(one!)).toEqual(comparable(await routed('p1', jsonBody)));
    expect(comparable(two!)).toEqual(comparable(await routed('p2', binaryBody)));
    expect(comparable(three!)).toEqual(comparable(await routed('p3', badBody)));
    expect(one!.headers.connection).toBe('keep-alive');
    writeLatin1(c, infer('p4'));
    const all = await c.responses(4);
    expect(all[3]!.headers['x-request-id']).toBe('p4');
    expect(c.socket.destroyed).toBe(false);
  });

  it('reads a head repeated byte for byte as the first, and one that differs in any byte afresh', async () => {
    const c = await raw();
    // the same head (id, length) twice, then a new id, a new length, a new header line, and a
    // head that is the first one with a line added before the blank line (same bytes, then more)
    const first = infer('r1', binaryBody);
    const firstHead = first.slice(0, first.indexOf('\r\n\r\n'));
    writeLatin1(
      c,
      first +
        first +
        infer('r2', binaryBody) +
        infer('r2', jsonBody) +
        infer('r2', jsonBody, 'X-Extra: 1\r\n') +
        `${firstHead}\r\nConnection: close\r\n\r\n${binaryBody}`,
    );
    const answers = await c.responses(6);
    expect(answers.map((a) => [a.status, a.headers['x-request-id'], a.headers.connection])).toEqual([
      [200, 'r1', 'keep-alive'],
      [200, 'r1', 'keep-alive'],
      [200, 'r2', 'keep-alive'],
      [200, 'r2', 'keep-alive'],
      [200, 'r2', 'keep-alive'],
      [200, 'r1', 'close'],
    ]);
    const binary = comparable(await routed('r1', binaryBody));
    expect(comparable(answers[1]!)).toEqual(binary);
    expect(comparable(answers[3]!)).toEqual(comparable(await routed('r2', jsonBody)));
    expect(comparable(answers[4]!)).toEqual(comparable(answers[3]!));
  });

  it('reads a request split at every byte, then hands a health probe to node on the same connection', async () => {
    const c = await raw();
    const bytes = infer('s1', binaryBody);
    for (let i = 0; i < bytes.length; i++) {
      writeLatin1(c, bytes[i]!);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [split] = await c.responses(1);
    expect(comparable(split!)).toEqual(comparable(await routed('s1', binaryBody)));
    // a GET is node's and fastify's, and so is every request after it on this connection
    writeLatin1(c, `GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n${infer('s2')}`);
    const [, live, after] = await c.responses(3);
    expect(live!.status).toBe(200);
    expect(JSON.parse(live!.body)).toEqual({ live: true });
    expect(comparable(after!)).toEqual(comparable(await routed('s2', jsonBody)));
  });

  it('hands a request to node behind answers still owed, in order', async () => {
    const c = await raw();
    writeLatin1(c, `${infer('o1')}GET /v2/health/ready HTTP/1.1\r\nHost: x\r\n\r\n${infer('o2')}`);
    const answers = await c.responses(3);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers[0]!.headers['x-request-id']).toBe('o1');
    expect(JSON.parse(answers[1]!.body)).toEqual({ ready: true });
    expect(answers[2]!.headers['x-request-id']).toBe('o2');
  });

  it('leaves unknown models, HTTP/1.0 and Expect to node and fastify', async () => {
    const unknown = await raw();
    writeLatin1(unknown, infer('u', jsonBody, '', '/v2/models/nope/infer'));
    const missing = await unknown.response();
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: 'unknown model nope' });

    const old = await raw();
    writeLatin1(old, infer('h', jsonBody).replace('HTTP/1.1', 'HTTP/1.0'));
    expect((await old.response()).status).toBe(200);
    await old.closed; // node closes an HTTP/1.0 connection without keep-alive

    const expect100 = await raw();
    writeLatin1(expect100, infer('e', jsonBody, 'Expect: 100-continue\r\n'));
    await expect.poll(() => expect100.received()).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
  });
});

describe('request smuggling forms are node:http parser errors, as before', () => {
  /** Node's 400 through fastify's clientError handler, then the connection closed. */
  async function refusedByNode(bytes: string): Promise<void> {
    const c = await raw();
    writeLatin1(c, bytes);
    await c.closed;
    const answers = parseResponses(c.received());
    expect(answers).toHaveLength(1);
    expect(answers[0]!.status).toBe(400);
    expect(JSON.parse(answers[0]!.body)).toMatchObject({ error: 'Bad Request', statusCode: 400 });
  }
  const smuggled = infer('smuggled');

  it('Content-Length with Transfer-Encoding', async () => {
    const chunked = `${Buffer.byteLength(smuggled).toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
    await refusedByNode(
      `POST /v2/models/mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`,
    );
  });

  it('two Content-Lengths, equal or not', async () => {
    await refusedByNode(infer('d1', jsonBody, `Content-Length: ${jsonBody.length}\r\n`));
    await refusedByNode(infer('d2', jsonBody, 'Content-Length: 0\r\n') + smuggled);
  });

  it('obs-fold, bare LF, whitespace before the colon, a bad length', async () => {
    await refusedByNode(infer('f', jsonBody, 'X-Folded: a\r\n b\r\n'));
    await refusedByNode(infer('l', jsonBody).replace('Host: x\r\n', 'Host: x\n'));
    await refusedByNode(infer('w', jsonBody).replace('Content-Length:', 'Content-Length :'));
    await refusedByNode(infer('n', jsonBody).replace(/Content-Length: \d+/, 'Content-Length: +12'));
  });
});

describe('draining', () => {
  it('closes an idle lean connection at once, and answers a request queued behind close() with Connection: close', async () => {
    const server = await startServer({
      path: FIXTURES,
      httpPort: 0,
      grpcPort: null,
      logger: pino({ level: 'silent' }),
      // keep-alive far longer than the test: only shutdown can close these connections
      limits: { keepAliveTimeoutMs: 600_000, drainTimeoutMs: 600_000 },
    });
    const idle = await openRaw(server.httpPort!);
    const late = await openRaw(server.httpPort!);
    open.push(idle, late);
    for (const c of [idle, late]) {
      writeLatin1(c, infer('k'));
      expect((await c.response()).headers.connection).toBe('keep-alive');
    }
    // the second request's head is read (lean) before close(), its body after
    const bytes = infer('late');
    const split = bytes.indexOf('\r\n\r\n') + 4;
    writeLatin1(late, bytes.slice(0, split));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = server.close();
    writeLatin1(late, bytes.slice(split));
    await idle.closed;
    const [, answer] = await late.responses(2);
    expect(answer!.status).toBe(503);
    expect(answer!.headers.connection).toBe('close');
    await Promise.all([late.closed, closing]);
  });
});
