/*
 * ModelInfer's per-request log lines (info level): one 'request' line per answered call and one
 * 'request failed' line per call the model's checks or execution refused, each with its own id;
 * none for a request that could not be read into tensor headers (counted as a failure only).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED, makeRepo, startTestServer, type TestServer } from './test-server.helper.js';

let repo: ReturnType<typeof makeRepo>;
let t: TestServer;
const lines: Record<string, unknown>[] = [];
beforeAll(async () => {
  repo = makeRepo({ mlp: null });
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  t = await startTestServer(repo.root, { logger });
});
afterAll(async () => {
  await t.close();
  repo.cleanup();
});

const mlpRequest = (extra: Record<string, unknown> = {}) => ({
  model_name: 'mlp',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 8] }],
  raw_input_contents: [
    Buffer.from(new Float32Array(EXPECTED.mlp.inputs.x.data.slice(0, 8) as number[]).buffer),
  ],
  ...extra,
});
const modelInferLines = () => lines.filter((l) => l.rpc === 'ModelInfer');
const refused = (request: unknown) =>
  t.call('ModelInfer', request).then(
    () => expect.unreachable('answered'),
    (error: { code: number }) => error.code,
  );

describe('gRPC ModelInfer request log (info)', () => {
  it('logs each answered call once, with an id and its time', async () => {
    lines.length = 0;
    await t.call('ModelInfer', mlpRequest());
    await t.call('ModelInfer', mlpRequest());
    const logged = modelInferLines();
    expect(logged).toHaveLength(2);
    for (const line of logged) {
      expect(line).toMatchObject({ msg: 'request', model: 'mlp', version: expect.any(String) });
      expect(line.reqId).toEqual(expect.any(String));
      expect(line.ms).toEqual(expect.any(Number));
    }
    expect(logged[0]!.reqId).not.toBe(logged[1]!.reqId);
  });

  it('logs a call the checks refuse with its error code, and none for one it could not read', async () => {
    lines.length = 0;
    expect(await refused(mlpRequest({ outputs: [{ name: 'z' }] }))).toBe(3); // INVALID_ARGUMENT
    const failed = modelInferLines();
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ msg: 'request failed', model: 'mlp', code: 'FERRY_SERVE_OUTPUT' });
    expect(failed[0]!.reqId).toEqual(expect.any(String));
    lines.length = 0;
    expect(await refused(mlpRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 8] }] }))).toBe(3);
    expect(modelInferLines()).toEqual([]);
  });
});
