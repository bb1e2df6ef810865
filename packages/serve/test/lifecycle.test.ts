import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startCli } from './cli-process.helper.js';
import { makeRepo, metricValue } from './test-server.helper.js';

/** The real CLI in its own process: readiness, structured logs, and SIGTERM draining to exit 0. */
let repo: ReturnType<typeof makeRepo>;

beforeAll(() => {
  execFileSync('npx', ['tsc', '-b', 'packages/cli'], { cwd: ROOT, stdio: 'pipe' });
  repo = makeRepo({
    slow: 'max_batch_size: 256\ninstances:\n  count: 1\n  intra_op_threads: 1\n',
  });
}, 120_000);
afterAll(() => repo.cleanup());

describe('ferry serve (CLI process)', () => {
  it('drains queued and running requests on SIGTERM, then exits 0', async () => {
    const { child, port, lines, exited } = await startCli([
      repo.root,
      '--http-port',
      '0',
      '--grpc-port',
      '0',
      '--json',
    ]);
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    const send = (rows: number) =>
      fetch(`${url}/v2/models/slow/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [{ name: 'x', shape: [rows, 1], datatype: 'FP32', data: new Array(rows).fill(1) }],
        }),
      });
    // a long execution (256 rows of a 384x384 matmul on one thread) with two requests right behind it
    const blocker = send(256);
    const queued = [send(1), send(2)];
    // SIGTERM once the server's own metrics show two requests waiting behind the running one
    let pending = 0;
    for (let i = 0; i < 400 && pending < 2; i++) {
      const text = await (await fetch(`${url}/metrics`)).text();
      pending = metricValue(text, 'ferry_pending_requests', { model: 'slow', version: '1' });
      if (pending < 2) await new Promise((r) => setTimeout(r, 5));
    }
    expect(pending).toBe(2);
    child.kill('SIGTERM');
    const answers = await Promise.all([blocker, ...queued]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    const shapes = await Promise.all(
      answers.map(async (a) => ((await a.json()) as { outputs: { shape: number[] }[] }).outputs[0]!.shape),
    );
    expect(shapes).toEqual([
      [256, 1],
      [1, 1],
      [2, 1],
    ]);
    expect(await exited).toBe(0);
    // pino JSON logs: one line per request with its id
    const logs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      logs.some(
        (l) => l.msg === 'request' && typeof l.reqId === 'string' && l.url === '/v2/models/slow/infer',
      ),
    ).toBe(true);
    expect(logs.some((l) => l.msg === 'stopped')).toBe(true);
  });

  it('prints one error line and exits 2 for a repository it cannot serve', () => {
    let status = 0;
    let stderr = '';
    try {
      execFileSync(
        process.execPath,
        ['packages/cli/bin/ferry.js', 'serve', '/nonexistent/repo', '--http-port', '0', '--grpc-port', '0'],
        {
          cwd: ROOT,
          stdio: 'pipe',
        },
      );
    } catch (error) {
      status = (error as { status: number }).status;
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(2);
    expect(stderr).toBe('ferry serve: FERRY_SERVE_REPOSITORY: /nonexistent/repo: no such file or folder\n');
  });
});
