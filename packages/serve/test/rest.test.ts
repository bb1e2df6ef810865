import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeTo,
  EXPECTED,
  FIXTURES,
  getJson,
  postJson,
  startTestServer,
  type TestServer,
} from './test-server.helper.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer(FIXTURES);
});
afterAll(async () => {
  await t.close();
});

const mlpRequest = (extra: Record<string, unknown> = {}) => ({
  inputs: [
    { name: 'x', shape: EXPECTED.mlp.inputs.x.shape, datatype: 'FP32', data: EXPECTED.mlp.inputs.x.data },
  ],
  ...extra,
});

describe('REST endpoints', () => {
  it('GET /v2/health/live and /v2/health/ready', async () => {
    expect(await getJson(`${t.url}/v2/health/live`)).toEqual({ status: 200, json: { live: true } });
    expect(await getJson(`${t.url}/v2/health/ready`)).toEqual({ status: 200, json: { ready: true } });
  });

  it('GET /v2 (server metadata)', async () => {
    const { status, json } = await getJson(`${t.url}/v2`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ name: 'ferry', version: '0.1.0' });
    expect(json.extensions).toContain('binary_tensor_data');
  });

  it('GET /v2/models/M and /v2/models/M/versions/V (model metadata)', async () => {
    const expected = {
      name: 'multi',
      versions: ['1'],
      platform: 'onnx_onnxv1',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [-1, 4] },
        { name: 'ids', datatype: 'INT64', shape: [-1, 4] },
        { name: 'mask', datatype: 'BOOL', shape: [-1, 4] },
        { name: 'h', datatype: 'FP16', shape: [-1, 4] },
      ],
      outputs: [
        { name: 'scaled', datatype: 'FP32', shape: [-1, 4] },
        { name: 'doubled', datatype: 'INT64', shape: [-1, 4] },
        { name: 'flipped', datatype: 'BOOL', shape: [-1, 4] },
        { name: 'half', datatype: 'FP16', shape: [-1, 4] },
      ],
    };
    expect(await getJson(`${t.url}/v2/models/multi`)).toEqual({ status: 200, json: expected });
    expect(await getJson(`${t.url}/v2/models/multi/versions/1`)).toEqual({ status: 200, json: expected });
    // a model without a batch dimension keeps its fixed shape
    const fixed = await getJson(`${t.url}/v2/models/fixed`);
    expect(fixed.json.inputs).toEqual([{ name: 'm', datatype: 'FP32', shape: [2, 3] }]);
  });

  it('GET .../ready (model ready, with and without version)', async () => {
    expect(await getJson(`${t.url}/v2/models/mlp/ready`)).toEqual({
      status: 200,
      json: { name: 'mlp', ready: true },
    });
    expect(await getJson(`${t.url}/v2/models/mlp/versions/1/ready`)).toEqual({
      status: 200,
      json: { name: 'mlp', ready: true },
    });
    expect((await getJson(`${t.url}/v2/models/mlp/versions/7/ready`)).status).toBe(404);
    expect((await getJson(`${t.url}/v2/models/nope/ready`)).status).toBe(404);
  });

  it('POST infer: the MLP answers what torch computed (with and without version)', async () => {
    for (const path of ['/v2/models/mlp/infer', '/v2/models/mlp/versions/1/infer']) {
      const { status, json } = await postJson(`${t.url}${path}`, mlpRequest({ id: 'req-1' }));
      expect(status).toBe(200);
      expect(json).toMatchObject({ model_name: 'mlp', model_version: '1', id: 'req-1' });
      const [y] = json.outputs as { name: string; datatype: string; shape: number[]; data: number[] }[];
      expect(y).toMatchObject({ name: 'y', datatype: 'FP32', shape: EXPECTED.mlp.outputs.y.shape });
      expect(closeTo(y!.data, EXPECTED.mlp.outputs.y.data as number[])).toBe(true);
    }
  });

  it('POST infer: several inputs and outputs of FP32, INT64, BOOL and FP16 match torch', async () => {
    const inputs = EXPECTED.multi.inputs;
    const datatypes: Record<string, string> = { a: 'FP32', ids: 'INT64', mask: 'BOOL', h: 'FP16' };
    const { status, json } = await postJson(`${t.url}/v2/models/multi/infer`, {
      inputs: Object.entries(inputs).map(([name, v]) => ({
        name,
        shape: v.shape,
        datatype: datatypes[name],
        data: v.data,
      })),
    });
    expect(status).toBe(200);
    const out = Object.fromEntries(
      (json.outputs as { name: string; data: unknown[] }[]).map((o) => [o.name, o]),
    );
    expect(closeTo(out.scaled!.data as number[], EXPECTED.multi.outputs.scaled!.data as number[])).toBe(true);
    expect(out.doubled!.data).toEqual(EXPECTED.multi.outputs.doubled!.data);
    expect(out.flipped!.data).toEqual(EXPECTED.multi.outputs.flipped!.data);
    expect(out.half!.data).toEqual(EXPECTED.multi.outputs.half!.data);
  });

  it('POST infer: nested data arrays and requested outputs', async () => {
    const flat = EXPECTED.mlp.inputs.x.data as number[];
    const nested = Array.from({ length: 5 }, (_, r) => flat.slice(r * 8, r * 8 + 8));
    const { status, json } = await postJson(`${t.url}/v2/models/mlp/infer`, {
      inputs: [{ name: 'x', shape: [5, 8], datatype: 'FP32', data: nested }],
      outputs: [{ name: 'y' }],
    });
    expect(status).toBe(200);
    expect(
      closeTo((json.outputs as { data: number[] }[])[0]!.data, EXPECTED.mlp.outputs.y.data as number[]),
    ).toBe(true);
  });

  it('POST infer: any content type, or none, is read as the protocol body', async () => {
    const body = Buffer.from(JSON.stringify(mlpRequest()));
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${t.url}/v2/models/mlp/infer`,
        { method: 'POST', headers: { 'content-length': body.length } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(200);
    const text = await fetch(`${t.url}/v2/models/mlp/infer`, { method: 'POST', body: body.toString() });
    expect(text.status).toBe(200);
  });

  it('POST infer: a model without a batch dimension', async () => {
    const { status, json } = await postJson(`${t.url}/v2/models/fixed/infer`, {
      inputs: [{ name: 'm', shape: [2, 3], datatype: 'FP32', data: EXPECTED.fixed.inputs.m.data }],
    });
    expect(status).toBe(200);
    const [out] = json.outputs as { shape: number[]; data: number[] }[];
    expect(out!.shape).toEqual([3, 2]);
    expect(closeTo(out!.data, EXPECTED.fixed.outputs.t.data as number[])).toBe(true);
  });

  it('GET /metrics serves Prometheus text with per-model series', async () => {
    const response = await fetch(`${t.url}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/ferry_request_success_total\{model="mlp",version="1"\} \d+/);
    expect(text).toContain('ferry_model_load_duration_seconds{model="multi",version="1"}');
    expect(text).toContain('ferry_compute_duration_seconds_bucket');
  });

  it('echoes or assigns a request id', async () => {
    const response = await fetch(`${t.url}/v2/health/live`, { headers: { 'x-request-id': 'abc-123' } });
    expect(response.headers.get('x-request-id')).toBe('abc-123');
    const other = await fetch(`${t.url}/v2/health/live`);
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('REST errors', () => {
  const infer = (model: string, body: unknown) => postJson(`${t.url}/v2/models/${model}/infer`, body);
  const x = (extra: Record<string, unknown>) => ({
    inputs: [{ name: 'x', shape: [1, 8], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8], ...extra }],
  });

  it('404 for an unknown model or version', async () => {
    expect(await infer('nope', x({}))).toEqual({ status: 404, json: { error: 'unknown model nope' } });
    const version = await postJson(`${t.url}/v2/models/mlp/versions/3/infer`, x({}));
    expect(version.status).toBe(404);
    expect(version.json.error).toBe('model mlp has no version 3 being served (serving 1)');
    expect((await getJson(`${t.url}/v2/models/nope`)).status).toBe(404);
  });

  it.each([
    ['a body that is not JSON', 'not json', /the body is not valid JSON/],
    ['no inputs', { inputs: [] }, /"inputs" must be a non-empty array/],
    ['a wrong datatype', x({ datatype: 'FP64' }), /input x: datatype is FP64 but the model expects FP32/],
    ['a wrong rank', x({ shape: [8] }), /input x: shape \[8\] has rank 1 but the model expects \[-1, 8\]/],
    ['a wrong fixed dimension', x({ shape: [2, 4] }), /dimension 1 is 4 but the model expects \[-1, 8\]/],
    ['too few elements', x({ shape: [2, 8] }), /"data" has 8 elements but shape \[2, 8\] needs 16/],
    [
      'a string where a number goes',
      x({ data: [1, 2, 3, 4, 5, 6, 7, 'x'] }),
      /element 7 \("x"\) must be a number for FP32/,
    ],
    [
      'a negative dimension',
      x({ shape: [-1, 8] }),
      /inputs\[0\]\.shape\[0\]: is -1; a dimension must be a JSON integer from 0 to 2\^53-1/,
    ],
    [
      'an unknown input',
      { inputs: [{ name: 'z', shape: [1], datatype: 'FP32', data: [1] }] },
      /input z: model mlp has no such input \(it takes x\)/,
    ],
    ['an input given twice', { inputs: [x({}).inputs[0], x({}).inputs[0]] }, /input x: given twice/],
    [
      'an unknown output',
      { ...x({}), outputs: [{ name: 'nope' }] },
      /output nope: model mlp has no such output \(it gives y\)/,
    ],
    [
      'a batch over max_batch_size',
      x({ shape: [33, 8], data: new Array(264).fill(0) }),
      /batch size 33 is outside 1..32/,
    ],
    [
      'neither data nor binary_data_size',
      { inputs: [{ name: 'x', shape: [1, 8], datatype: 'FP32' }] },
      /has neither "data" nor "binary_data_size"/,
    ],
  ])('400 for %s', async (_what, body, message) => {
    const response = await fetch(`${t.url}/v2/models/mlp/infer`, {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });

  it('400 for a missing input', async () => {
    const missing = await infer('multi', {
      inputs: [{ name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
    });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toBe('input ids: missing (model multi needs ids, mask, h)');
  });

  it('404 JSON for an unknown route', async () => {
    const { status, json } = await getJson(`${t.url}/v2/nothing/here`);
    expect(status).toBe(404);
    expect(json.error).toMatch(/no route GET/);
  });

  it('counts failures by reason in /metrics', async () => {
    await infer('mlp', x({ datatype: 'INT8' }));
    await fetch(`${t.url}/v2/models/mlp/infer`, { method: 'POST', body: '{"inputs": [' });
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(
      /ferry_request_failure_total\{model="mlp",version="1",reason="FERRY_SERVE_INPUT"\} [1-9]/,
    );
    // a body that never parsed still counts against its model
    expect(text).toMatch(
      /ferry_request_failure_total\{model="mlp",version="1",reason="FERRY_SERVE_BAD_REQUEST"\} [1-9]/,
    );
  });
});
