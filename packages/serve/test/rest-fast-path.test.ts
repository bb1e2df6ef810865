import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED, FIXTURES, startTestServer, type TestServer } from './test-server.helper.js';

/**
 * Infer requests with a Content-Length are answered by the node:http fast path in front of fastify
 * (rest-fast-infer.ts); the same request sent chunked goes through fastify's route. Both must give
 * the same answer: status, body, content type, request id, and the same errors.
 */
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer(FIXTURES);
});
afterAll(async () => {
  await t.close();
});

interface Answer {
  status: number;
  type: string | undefined;
  id: string | undefined;
  headerLength: string | undefined;
  body: Buffer;
}

/** POSTs `body` with a Content-Length (fast path) or chunked (fastify), and reads the whole answer. */
function post(
  path: string,
  body: Buffer,
  chunked: boolean,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${t.url}${path}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...headers,
          ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': body.length }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            type: res.headers['content-type'],
            id: res.headers['x-request-id'] as string | undefined,
            headerLength: res.headers['inference-header-content-length'] as string | undefined,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('error', reject);
    if (chunked) {
      // two chunks, so the body really streams
      req.write(body.subarray(0, 10));
      req.end(body.subarray(10));
    } else req.end(body);
  });
}

const x = EXPECTED.mlp.inputs.x;
const jsonBody = Buffer.from(
  JSON.stringify({ inputs: [{ name: 'x', shape: x.shape, datatype: 'FP32', data: x.data }] }),
);

describe('the infer fast path answers as the fastify route does', () => {
  it('JSON: same answer, request id echoed', async () => {
    const fast = await post('/v2/models/mlp/infer', jsonBody, false, { 'x-request-id': 'fast-1' });
    const routed = await post('/v2/models/mlp/infer', jsonBody, true, { 'x-request-id': 'fast-1' });
    expect(fast.status).toBe(200);
    expect(fast).toEqual(routed);
    const y = (JSON.parse(fast.body.toString()) as { outputs: { data: number[] }[] }).outputs[0]!.data;
    expect(y.map((v) => Number(v.toFixed(5)))).toEqual(
      (EXPECTED.mlp.outputs.y.data as number[]).map((v) => Number(v.toFixed(5))),
    );
    // with a version in the path too, and a fresh id when none is given
    const versioned = await post('/v2/models/mlp/versions/1/infer', jsonBody, false);
    expect(versioned.body).toEqual(fast.body);
    expect(versioned.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('binary tensor data: same answer and Inference-Header-Content-Length', async () => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'x',
            shape: x.shape,
            datatype: 'FP32',
            parameters: { binary_data_size: x.data.length * 4 },
          },
        ],
        parameters: { binary_data_output: true },
      }),
    );
    const body = Buffer.concat([header, Buffer.from(Float32Array.from(x.data as number[]).buffer)]);
    const headers = {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(header.length),
      'x-request-id': 'b',
    };
    const fast = await post('/v2/models/mlp/infer', body, false, headers);
    const routed = await post('/v2/models/mlp/infer', body, true, headers);
    expect(fast.status).toBe(200);
    expect(fast.type).toBe('application/octet-stream');
    expect(fast).toEqual(routed);
    const json = Number(fast.headerLength);
    const y = new Float32Array(
      fast.body.buffer.slice(fast.body.byteOffset + json, fast.body.byteOffset + fast.body.length),
    );
    expect(y.length).toBe((EXPECTED.mlp.outputs.y.data as number[]).length);
  });

  it('errors: same status and message, the failure counted once each', async () => {
    const bad = Buffer.from(
      JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }),
    );
    const fast = await post('/v2/models/mlp/infer', bad, false, { 'x-request-id': 'e' });
    const routed = await post('/v2/models/mlp/infer', bad, true, { 'x-request-id': 'e' });
    expect(fast.status).toBe(400);
    expect(fast).toEqual(routed);
    expect(JSON.parse(fast.body.toString()).error).toMatch(/shape \[1, 3\]/);
    const notJson = await post('/v2/models/mlp/infer', Buffer.from('{"inputs": ['), false, {
      'x-request-id': 'e',
    });
    expect(notJson).toEqual(
      await post('/v2/models/mlp/infer', Buffer.from('{"inputs": ['), true, { 'x-request-id': 'e' }),
    );
    expect(notJson.status).toBe(400);
    // an unknown model is left to fastify (404), whichever way the body comes
    const unknown = await post('/v2/models/nope/infer', jsonBody, false, { 'x-request-id': 'e' });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body.toString())).toEqual({ error: 'unknown model nope' });
  });
});
