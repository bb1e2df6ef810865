import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeTo,
  EXPECTED,
  makeRepo,
  metricValue,
  postJson,
  startTestServer,
  type TestServer,
} from './test-server.helper.js';

/**
 * The dynamic batcher against real models: batching, shape grouping, preferred sizes, the
 * bounded queue, timeouts and disconnects. Ordering is arranged by waiting for the batcher's
 * own state (a request executing, n queued), never by sleeping for a guessed time.
 */
let t: TestServer;
let repo: ReturnType<typeof makeRepo>;
beforeAll(async () => {
  repo = makeRepo({
    mlp: null,
    // the same MLP under another name, with a long queue delay so concurrent requests batch
    seq: 'max_batch_size: 8\ndynamic_batching:\n  max_queue_delay_us: 300000\n',
    slow: 'max_batch_size: 256\ndynamic_batching:\n  max_queue_size: 2\ninstances:\n  count: 1\n  intra_op_threads: 1\n',
  });
  const { cpSync } = await import('node:fs');
  cpSync(`${repo.root}/mlp`, `${repo.root}/mlp_batched`, { recursive: true });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    `${repo.root}/mlp_batched/config.yaml`,
    'max_batch_size: 16\ndynamic_batching:\n  max_queue_delay_us: 500000\n',
  );
  cpSync(`${repo.root}/mlp`, `${repo.root}/mlp_preferred`, { recursive: true });
  writeFileSync(
    `${repo.root}/mlp_preferred/config.yaml`,
    'max_batch_size: 8\ndynamic_batching:\n  max_queue_delay_us: 500000\n  preferred_batch_sizes: [4]\n',
  );
  t = await startTestServer(repo.root);
});
afterAll(async () => {
  await t.close();
  repo.cleanup();
});

const metrics = async () => (await fetch(`${t.url}/metrics`)).text();
const counts = async (model: string) => {
  const text = await metrics();
  const labels = { model, version: '1' };
  return {
    executions: metricValue(text, 'ferry_inference_exec_count_total', labels),
    inferences: metricValue(text, 'ferry_inference_count_total', labels),
    cancelled: metricValue(text, 'ferry_request_failure_total', {
      ...labels,
      reason: 'FERRY_SERVE_CANCELLED',
    }),
    timedOut: metricValue(text, 'ferry_request_failure_total', { ...labels, reason: 'FERRY_SERVE_TIMEOUT' }),
    overloaded: metricValue(text, 'ferry_request_failure_total', {
      ...labels,
      reason: 'FERRY_SERVE_OVERLOADED',
    }),
  };
};

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

const row = (r: number) => (EXPECTED.mlp.inputs.x.data as number[]).slice(r * 8, r * 8 + 8);
/** One row of the mlp fixture submitted to `served`'s batcher directly, as the protocols do. */
const submitRow = (served: ReturnType<TestServer['server']['repository']['resolve']>, r: number) =>
  served.batcher.submit({
    inputs: new Map([
      [
        'x',
        { datatype: 'FP32' as const, shape: [1, 8], bytes: new Uint8Array(Float32Array.from(row(r)).buffer) },
      ],
    ]),
    rows: 1,
  });
const mlpInfer = (model: string, data: number[]) =>
  postJson(`${t.url}/v2/models/${model}/infer`, {
    inputs: [{ name: 'x', shape: [1, 8], datatype: 'FP32', data }],
  });

describe('dynamic batching', () => {
  it('N concurrent requests run in fewer executions, each answer equal to the unbatched one', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => row(i % 5).map((v) => v + i));
    // unbatched answers: one request at a time through the model with no queue delay
    const single: number[][] = [];
    for (const data of inputs)
      single.push(((await mlpInfer('mlp', data)).json.outputs as { data: number[] }[])[0]!.data);
    const before = await counts('mlp_batched');
    const batched = await Promise.all(inputs.map((data) => mlpInfer('mlp_batched', data)));
    const after = await counts('mlp_batched');
    expect(after.inferences - before.inferences).toBe(12);
    expect(after.executions - before.executions).toBeLessThan(12);
    batched.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      expect(closeTo((answer.json.outputs as { data: number[] }[])[0]!.data, single[i]!, 1e-6)).toBe(true);
    });
    // and the first five rows are what torch computed
    for (let r = 0; r < 5; r++) {
      const y = (EXPECTED.mlp.outputs.y.data as number[]).slice(r * 4, r * 4 + 4);
      const answer = (await mlpInfer('mlp', row(r))).json.outputs as { data: number[] }[];
      expect(closeTo(answer[0]!.data, y)).toBe(true);
    }
  });

  it('with max_queue_delay_us 0, requests that arrive in one turn of the event loop share an execution', async () => {
    // five one-row requests submitted together, as five bodies read in one poll of the sockets are
    const served = t.server.repository.resolve('mlp');
    const before = await counts('mlp');
    const answers = await Promise.all([0, 1, 2, 3, 4].map((r) => submitRow(served, r)));
    const after = await counts('mlp');
    expect(after.executions - before.executions).toBe(1);
    expect(after.inferences - before.inferences).toBe(5);
    // each gets its own row of what torch computed
    answers.forEach((outputs, r) => {
      const y = outputs.get('y') as { shape: number[]; bytes: Uint8Array };
      expect(y.shape).toEqual([1, 4]);
      const data = Array.from(new Float32Array(y.bytes.slice().buffer));
      expect(closeTo(data, (EXPECTED.mlp.outputs.y.data as number[]).slice(r * 4, r * 4 + 4))).toBe(true);
    });
  });

  it('with max_queue_delay_us 0, rows just answered that come back in later turns form one batch again', async () => {
    // four closed-loop clients: each sends its next request on its answer, one turn later than the
    // one before it, as answers written together come back from the sockets over several polls
    const served = t.server.repository.resolve('mlp');
    const submit = (r: number) => submitRow(served, r);
    const turns = (n: number) =>
      new Promise<void>((resolve) => {
        let k = 0;
        const step = () => (++k >= n ? resolve() : setImmediate(step));
        setImmediate(step);
      });
    // The wait lasts at most as long as the execution just done (tens of µs for this MLP), so on a
    // loaded machine a few turns can outlast it and end the wait, by design: up to 5 attempts, each
    // answering all 8 rows, and at least one of them must be two executions.
    const executions: number[] = [];
    for (let attempt = 0; attempt < 5 && executions.at(-1) !== 2; attempt++) {
      const before = await counts('mlp');
      await Promise.all(
        [0, 1, 2, 3].map(async (r) => {
          await submit(r);
          await turns(r + 1);
          return submit(r);
        }),
      );
      const after = await counts('mlp');
      expect(after.inferences - before.inferences).toBe(8);
      executions.push(after.executions - before.executions);
    }
    expect(executions).toContain(2);
  });

  it('forms the preferred batch size as soon as it can', async () => {
    const before = await counts('mlp_preferred');
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => mlpInfer('mlp_preferred', row(i % 5))),
    );
    const after = await counts('mlp_preferred');
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // 4 at once (the preferred size), the other 2 when the queue delay ends
    expect(after.executions - before.executions).toBe(2);
    expect(after.inferences - before.inferences).toBe(6);
  });

  it('never mixes requests whose non-batch dimensions differ', async () => {
    const x5 = EXPECTED.seq.inputs.x.data as number[];
    const y5 = EXPECTED.seq.outputs.y.data as number[];
    const x3 = [
      [1, 2, 3],
      [-1, 0.5, 4],
    ];
    const send = (data: number[]) =>
      postJson(`${t.url}/v2/models/seq/infer`, {
        inputs: [{ name: 'x', shape: [1, data.length], datatype: 'FP32', data }],
      });
    const before = await counts('seq');
    const answers = await Promise.all([send(x5.slice(0, 5)), send(x3[0]!), send(x5.slice(5)), send(x3[1]!)]);
    const after = await counts('seq');
    expect(after.executions - before.executions).toBe(2);
    const data = answers.map((a) => (a.json.outputs as { data: number[]; shape: number[] }[])[0]!);
    expect(closeTo(data[0]!.data, y5.slice(0, 5))).toBe(true);
    expect(closeTo(data[2]!.data, y5.slice(5))).toBe(true);
    // y = 2x + sum(x) per row
    for (const [i, x] of [[1, x3[0]!] as const, [3, x3[1]!] as const]) {
      const sum = x.reduce((a, b) => a + b, 0);
      expect(
        closeTo(
          data[i]!.data,
          x.map((v) => 2 * v + sum),
        ),
      ).toBe(true);
    }
  });
});

describe('queue policy', () => {
  const slow = () => t.server.repository.resolve('slow').batcher;
  // 256 rows of a 384x384 matmul each (about half a second): one execution that keeps the single instance busy
  const blocker = () =>
    postJson(`${t.url}/v2/models/slow/infer`, {
      inputs: [{ name: 'x', shape: [256, 1], datatype: 'FP32', data: new Array(256).fill(1) }],
    });
  const one = (extra: Record<string, unknown> = {}, signal?: AbortSignal) =>
    fetch(`${t.url}/v2/models/slow/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [0.5] }],
        ...extra,
      }),
      ...(signal && { signal }),
    });

  it('answers 503 at once when the bounded queue is full', async () => {
    const before = await counts('slow');
    const running = blocker();
    await until(() => slow().executing === 1);
    const queued = [one(), one()];
    await until(() => slow().pending === 2);
    const refused = await one();
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toBe(
      'model slow version 1: queue is full (2 requests waiting)',
    );
    expect((await running).status).toBe(200);
    const answers = await Promise.all(queued);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    // the two queued requests were batched together once the instance was free
    const y = ((await answers[0]!.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;
    expect(closeTo(y, [(EXPECTED.slow.outputs.y.data as number[])[0]!])).toBe(true);
    const after = await counts('slow');
    expect(after.overloaded - before.overloaded).toBe(1);
  });

  it('fails a request that waits past its timeout with 503, without running it', async () => {
    const before = await counts('slow');
    const running = blocker();
    await until(() => slow().executing === 1);
    const late = await one({ parameters: { timeout: 1000 } });
    expect(late.status).toBe(503);
    expect(((await late.json()) as { error: string }).error).toBe(
      'model slow version 1: request timed out after 1000 us in the queue',
    );
    await running;
    const after = await counts('slow');
    expect(after.timedOut - before.timedOut).toBe(1);
    expect(after.executions - before.executions).toBe(1);
  });

  it('removes a request from the queue when its client disconnects', async () => {
    const before = await counts('slow');
    const running = blocker();
    await until(() => slow().executing === 1);
    const abort = new AbortController();
    const gone = one({}, abort.signal).catch((error: Error) => error);
    await until(() => slow().pending === 1);
    abort.abort();
    expect(await gone).toBeInstanceOf(Error);
    await until(() => slow().pending === 0);
    expect((await running).status).toBe(200);
    await until(() => slow().executing === 0);
    const after = await counts('slow');
    expect(after.cancelled - before.cancelled).toBe(1);
    expect(after.executions - before.executions).toBe(1); // only the blocker ran
    expect(after.inferences - before.inferences).toBe(256);
  });

  it('removes a gRPC request from the queue when the client cancels the call', async () => {
    const before = await counts('slow');
    const running = blocker();
    await until(() => slow().executing === 1);
    const infer = t.grpc.ModelInfer as (r: unknown, cb: (e: Error | null) => void) => { cancel(): void };
    const call = infer.call(
      t.grpc,
      {
        model_name: 'slow',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], contents: { fp32_contents: [0.5] } }],
      },
      () => undefined,
    );
    await until(() => slow().pending === 1);
    call.cancel();
    await until(() => slow().pending === 0);
    expect((await running).status).toBe(200);
    await until(() => slow().executing === 0);
    const after = await counts('slow');
    expect(after.cancelled - before.cancelled).toBe(1);
    expect(after.executions - before.executions).toBe(1);
  });
});
