import { connect as connectHttp2, constants as h2 } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_HEADROOM_BYTES, JSON_BYTES_PER_ELEMENT } from '../src/limits.js';
import { SLICED_JSON_MIN_BYTES } from '../src/protocol/rest-json.js';
import { EXPECTED, makeRepo, startTestServer, type TestServer } from './test-server.helper.js';
import { openRaw, type RawConnection } from './raw-socket.helper.js';

/**
 * The server under abuse (issue #24 item 8), over real sockets: slow and half-sent requests,
 * bodies over the model's limit, the in-flight byte budget, the connection cap. Limits are set
 * short so each test takes well under a second.
 */
const repo = makeRepo({ mlp: null });
afterAll(() => repo.cleanup());

// mlp: x [-1, 8] FP32, max_batch_size 32 (the default): 256 elements at most
const MLP_JSON_LIMIT = 32 * 8 * JSON_BYTES_PER_ELEMENT + BODY_HEADROOM_BYTES;
const BUDGET = 1_500_000;
const validBody = JSON.stringify({
  inputs: [
    { name: 'x', shape: EXPECTED.mlp!.inputs.x!.shape, datatype: 'FP32', data: EXPECTED.mlp!.inputs.x!.data },
  ],
});
const head = (length: number | 'chunked', path = '/v2/models/mlp/infer') =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${
    length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`
  }\r\n\r\n`;

let t: TestServer;
let port: number;
const open: RawConnection[] = [];
const raw = async () => {
  const c = await openRaw(port);
  open.push(c);
  return c;
};

beforeAll(async () => {
  t = await startTestServer(repo.root, {
    limits: {
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
      keepAliveTimeoutMs: 300,
      maxInflightBytes: BUDGET,
    },
  });
  port = t.server.httpPort!;
}, 60_000);
afterAll(async () => {
  for (const c of open) c.socket.destroy();
  await t?.close();
});

describe('REST under abuse', () => {
  it('answers 408 and closes a connection whose headers trickle in (slowloris)', async () => {
    const c = await raw();
    const line = 'POST /v2/models/mlp/infer HTTP/1.1\r\nX-Slow: ';
    let i = 0;
    const trickle = setInterval(() => c.write(line[i++ % line.length]!), 20);
    await c.closed;
    clearInterval(trickle);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('answers 408 and closes a connection whose body stops half-way', async () => {
    const c = await raw();
    c.write(`${head(validBody.length)}${validBody.slice(0, 10)}`);
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const c = await raw();
    c.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await c.response()).status).toBe(200);
    await c.closed;
  });

  it('refuses Content-Length over the model limit with 413 before reading, and health answers', async () => {
    // the issue's three 250 MB JSON bodies: each refused on its headers, the connection closed
    const conns = await Promise.all([raw(), raw(), raw()]);
    for (const c of conns) c.write(`${head(250_000_000)}{"inputs":[{"name":"x","data":[`);
    const responses = await Promise.all(conns.map((c) => c.response()));
    for (const r of responses) {
      expect(r.status).toBe(413);
      expect(r.headers.connection).toBe('close');
      expect(JSON.parse(r.body).error).toBe(
        `the JSON body of a request to model mlp version 1 (derived from its inputs) is 250000000, over the limit of ${MLP_JSON_LIMIT}`,
      );
    }
    await Promise.all(conns.map((c) => c.closed));
    expect((await fetch(`${t.url}/v2/health/live`)).status).toBe(200);
    // nothing of those bodies is held: a normal request still fits the budget
    const ok = await fetch(`${t.url}/v2/models/mlp/infer`, { method: 'POST', body: validBody });
    expect(ok.status).toBe(200);
  });

  it('counts a chunked body and cuts it with 413 once it passes the model limit', async () => {
    const c = await raw();
    c.write(head('chunked'));
    const chunk = ' '.repeat(64 * 1024);
    // 4 MiB of JSON whitespace, far past the 1 MiB limit; the server answers part-way
    for (let sent = 0; sent < 4 * 2 ** 20 && !c.received(); sent += chunk.length) {
      c.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      await new Promise((r) => setImmediate(r));
    }
    const r = await c.response();
    expect(r.status).toBe(413);
    expect(r.headers.connection).toBe('close');
    expect(JSON.parse(r.body).error).toMatch(/model mlp version 1 .* over the limit of 1056768$/);
    await c.closed;
  });

  it('answers 503 with Retry-After when bodies in flight would pass the byte budget', async () => {
    // A holds 1,000,000 of the 1,500,000 budget while its body is still arriving
    const a = await raw();
    const padded = validBody.padEnd(1_000_000, ' ');
    a.write(head(padded.length) + padded.slice(0, 100));
    await new Promise((r) => setTimeout(r, 50));
    const b = await raw();
    b.write(`${head(1_000_000)}{`);
    const refused = await b.response();
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers.connection).toBe('close');
    expect(JSON.parse(refused.body).error).toBe(
      'request bodies in flight would hold 2000000 bytes, over the server budget of 1500000 (--max-inflight-bytes); retry later',
    );
    await b.closed;
    // a chunked body is charged as it arrives: cut once it passes what is left of the budget
    const c = await raw();
    c.write(head('chunked'));
    const chunk = ' '.repeat(64 * 1024);
    for (let sent = 0; sent < 1_000_000 && !c.received(); sent += chunk.length) {
      c.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      await new Promise((r) => setImmediate(r));
    }
    const cut = await c.response();
    expect(cut.status).toBe(503);
    expect(cut.headers['retry-after']).toBe('1');
    expect(cut.headers.connection).toBe('close');
    await c.closed;
    // A completes and is served; its bytes go back to the budget
    a.write(padded.slice(100));
    expect((await a.response()).status).toBe(200);
    const ok = await fetch(`${t.url}/v2/models/mlp/infer`, { method: 'POST', body: padded });
    expect(ok.status).toBe(200);
  });
});

describe('large JSON bodies (parsed in slices, json-sliced.ts)', () => {
  it('answers a JSON body over the slicing threshold like a small one', async () => {
    // ~330 KB: the mlp request pretty-printed with very wide indentation
    const big = JSON.stringify(JSON.parse(validBody), null, 2).replace(/\n/g, `\n${' '.repeat(6000)}`);
    expect(big.length).toBeGreaterThan(SLICED_JSON_MIN_BYTES);
    const [small, large] = await Promise.all(
      [validBody, big].map(async (body) => {
        const r = await fetch(`${t.url}/v2/models/mlp/infer`, { method: 'POST', body });
        return { status: r.status, json: await r.json() };
      }),
    );
    expect(large).toEqual(small);
    expect(large!.status).toBe(200);
  });

  it('answers a health probe that arrives with a large JSON body before that body is parsed', async () => {
    const live = 'GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n';
    // a kept-alive probe connection, accepted and served once already
    const probe = await raw();
    probe.write(live);
    expect((await probe.response()).status).toBe(200);
    // ~400 KB of JSON whose data does not fit the shape: refused (400) once parsed
    const body = JSON.stringify({
      inputs: [{ name: 'x', shape: [5, 8], datatype: 'FP32', data: new Array(200_000).fill(0) }],
    });
    expect(body.length).toBeGreaterThan(SLICED_JSON_MIN_BYTES);
    const big = await raw();
    const order: string[] = [];
    big.socket.once('data', () => order.push('infer'));
    probe.socket.once('data', () => order.push('health'));
    // all but the body's last byte, then time for the server (this process) to read it all
    const request = head(body.length) + body;
    await new Promise((resolve) => big.socket.write(request.slice(0, -1), resolve));
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // in one turn, so the server reads both in its next poll, the infer body's end first
    big.write(request.slice(-1));
    probe.write(live);
    const refused = await big.response();
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body).error).toMatch(/has 200000 elements but shape \[5, 8\] needs 40/);
    // a JSON.parse on the event loop would have answered the infer request first
    expect(order).toEqual(['health', 'infer']);
  });

  it('refuses a large body that is not JSON, naming the character', async () => {
    const broken = `${validBody.slice(0, -1).padEnd(SLICED_JSON_MIN_BYTES, ' ')},]`;
    const r = await fetch(`${t.url}/v2/models/mlp/infer`, { method: 'POST', body: broken });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toBe(
      `the body is not valid JSON: expected a string key at character ${broken.length - 1}`,
    );
  });
});

describe('gRPC under abuse', () => {
  const modelInfer = (session: ReturnType<typeof connectHttp2>) =>
    session.request({
      ':method': 'POST',
      ':path': '/inference.GRPCInferenceService/ModelInfer',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
  const resetCode = (stream: ReturnType<ReturnType<typeof connectHttp2>['request']>) =>
    new Promise<number>((resolve) => {
      stream.on('error', () => {});
      stream.resume();
      stream.once('close', () => resolve(stream.rstCode ?? -1));
    });

  it('resets a call whose request message stops half-way after the request timeout', async () => {
    const session = connectHttp2(`http://127.0.0.1:${t.server.grpcPort}`);
    session.on('error', () => {});
    const stream = modelInfer(session);
    // a message prefix declaring 1000 bytes, then 10 of them
    stream.write(Buffer.concat([Buffer.from([0, 0, 0, 0x03, 0xe8]), Buffer.alloc(10)]));
    expect(await resetCode(stream)).toBe(h2.NGHTTP2_CANCEL);
    session.close();
  });

  it('resets a call whose message would pass the in-flight byte budget', async () => {
    const session = connectHttp2(`http://127.0.0.1:${t.server.grpcPort}`);
    session.on('error', () => {});
    const stream = modelInfer(session);
    const size = 2_000_000;
    stream.write(Buffer.from([0, (size >>> 24) & 255, (size >>> 16) & 255, (size >>> 8) & 255, size & 255]));
    stream.write(Buffer.alloc(size));
    expect(await resetCode(stream)).toBe(h2.NGHTTP2_ENHANCE_YOUR_CALM);
    session.close();
  });
});

describe('connection cap', () => {
  it('drops connections past maxConnections', async () => {
    const capped = await startTestServer(repo.root, { grpcPort: null, limits: { maxConnections: 3 } });
    const conns: RawConnection[] = [];
    try {
      for (let i = 0; i < 3; i++) conns.push(await openRaw(capped.server.httpPort!));
      const fourth = await openRaw(capped.server.httpPort!);
      conns.push(fourth);
      await fourth.closed;
      expect(fourth.received()).toBe('');
      // the three below the cap are still served
      conns[0]!.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      expect((await conns[0]!.response()).status).toBe(200);
    } finally {
      for (const c of conns) c.socket.destroy();
      await capped.server.close();
    }
  });
});
