import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/index.js';
import { ROOT, startCli } from './cli-process.helper.js';
import { EXPECTED, makeRepo, metricValue } from './test-server.helper.js';
import { openRaw } from './raw-socket.helper.js';

/**
 * Graceful shutdown (issue #24 item 9): SIGTERM / close() used to wait forever on an idle
 * keep-alive connection or a half-sent body. Now idle connections close at once, a half-sent
 * body gets the request timeout, requests being served finish, and the process exits, all
 * before the drain deadline (whose passing the server logs, and these tests check it did not).
 */
let repo: ReturnType<typeof makeRepo>;
let slowRepo: ReturnType<typeof makeRepo>;

beforeAll(() => {
  execFileSync('npx', ['tsc', '-b', 'packages/cli'], { cwd: ROOT, stdio: 'pipe' });
  repo = makeRepo({ mlp: null });
  slowRepo = makeRepo({
    mlp: null,
    slow: 'max_batch_size: 256\ninstances:\n  count: 1\n  intra_op_threads: 1\n',
  });
}, 120_000);
afterAll(() => {
  repo.cleanup();
  slowRepo.cleanup();
});

const mlpBody = JSON.stringify({
  inputs: [
    { name: 'x', shape: EXPECTED.mlp!.inputs.x!.shape, datatype: 'FP32', data: EXPECTED.mlp!.inputs.x!.data },
  ],
});
const halfSent = (length: number) =>
  `POST /v2/models/mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n{"inputs":`;

describe('close()', () => {
  it('closes an idle keep-alive connection at once and cuts a half-sent body at the request timeout', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().trim().split('\n'));
        done();
      },
    });
    const server = await startServer({
      path: repo.root,
      httpPort: 0,
      grpcPort: 0,
      logger: pino({ level: 'info' }, sink),
      // keep-alive far longer than the test: only shutdown can close that connection
      limits: { keepAliveTimeoutMs: 600_000, requestTimeoutMs: 400, drainTimeoutMs: 600_000 },
    });
    const port = server.httpPort!;
    const idle = await openRaw(port);
    idle.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await idle.response()).status).toBe(200);
    const half = await openRaw(port);
    half.write(halfSent(mlpBody.length));
    // a request whose body completes after close() started is refused, and its connection closed
    const late = await openRaw(port);
    late.write(`POST /v2/models/mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Length: ${mlpBody.length}\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    const closing = server.close();
    late.write(mlpBody);
    await idle.closed;
    const answer = await late.response();
    expect(answer.status).toBe(503);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body).error).toBe('the server is shutting down and accepts no new requests');
    await Promise.all([late.closed, half.closed, closing]);
    expect(half.received()).toBe('');
    const logs = lines.map((l) => JSON.parse(l) as { msg: string });
    expect(logs.some((l) => l.msg === 'stopped')).toBe(true);
    expect(logs.some((l) => l.msg.startsWith('drain deadline passed'))).toBe(false);
  });

  it('cuts a connection still open at the drain deadline', async () => {
    const server = await startServer({
      path: repo.root,
      httpPort: 0,
      grpcPort: 0,
      logger: pino({ level: 'silent' }),
      limits: { requestTimeoutMs: 600_000, drainTimeoutMs: 200 },
    });
    const half = await openRaw(server.httpPort!);
    half.write(halfSent(mlpBody.length));
    await new Promise((r) => setTimeout(r, 50));
    // the request timeout is far away: only the drain deadline ends this connection
    await server.close();
    await half.closed;
  });
});

describe('ferry serve (CLI process) on SIGTERM', () => {
  it('exits 0 with an idle keep-alive connection and a half-sent body open, after finishing a running request', async () => {
    const { child, port, lines, exited } = await startCli([
      slowRepo.root,
      '--http-port',
      '0',
      '--grpc-port',
      '0',
      '--json',
      '--keep-alive-timeout',
      '600',
      '--request-timeout',
      '0.5',
      '--drain-timeout',
      '600',
    ]);
    const url = `http://127.0.0.1:${port}`;
    const idle = await openRaw(port);
    idle.write('GET /v2/health/ready HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await idle.response()).status).toBe(200);
    const half = await openRaw(port);
    half.write(halfSent(mlpBody.length));
    // a long execution (256 rows of a 384x384 matmul on one thread) with one request behind it
    const send = (rows: number) =>
      fetch(`${url}/v2/models/slow/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [{ name: 'x', shape: [rows, 1], datatype: 'FP32', data: new Array(rows).fill(1) }],
        }),
      });
    const running = [send(256), send(1)];
    let pending = 0;
    for (let i = 0; i < 400 && pending < 1; i++) {
      const text = await (await fetch(`${url}/metrics`)).text();
      pending = metricValue(text, 'ferry_pending_requests', { model: 'slow', version: '1' });
      if (pending < 1) await new Promise((r) => setTimeout(r, 5));
    }
    expect(pending).toBe(1);
    child.kill('SIGTERM');
    expect((await Promise.all(running)).map((r) => r.status)).toEqual([200, 200]);
    await Promise.all([idle.closed, half.closed]);
    expect(await exited).toBe(0);
    const logs = lines.map((l) => JSON.parse(l) as { msg?: string });
    expect(logs.some((l) => l.msg === 'stopped')).toBe(true);
    expect(logs.some((l) => l.msg?.startsWith('drain deadline passed'))).toBe(false);
  }, 60_000);
});
