import { connect } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPC_WINDOW_BYTES } from '../src/limits.js';
import { closeTo, EXPECTED, FIXTURES, startTestServer, type TestServer } from './test-server.helper.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer(FIXTURES);
});
afterAll(async () => {
  await t.close();
});

const floats = (raw: Buffer) => Array.from(new Float32Array(new Uint8Array(raw).buffer));
const rawFloats = (values: number[]) => Buffer.from(new Float32Array(values).buffer);

describe('gRPC inference.GRPCInferenceService', () => {
  it('ServerLive, ServerReady, ServerMetadata', async () => {
    expect(await t.call('ServerLive', {})).toEqual({ live: true });
    expect(await t.call('ServerReady', {})).toEqual({ ready: true });
    const meta = await t.call<{ name: string; version: string; extensions: string[] }>('ServerMetadata', {});
    expect(meta.name).toBe('ferry');
    expect(meta.extensions).toContain('binary_tensor_data');
  });

  it('ModelReady and ModelMetadata, with and without version', async () => {
    expect(await t.call('ModelReady', { name: 'mlp' })).toEqual({ ready: true });
    expect(await t.call('ModelReady', { name: 'mlp', version: '1' })).toEqual({ ready: true });
    const meta = await t.call('ModelMetadata', { name: 'mlp', version: '1' });
    expect(meta).toEqual({
      name: 'mlp',
      versions: ['1'],
      platform: 'onnx_onnxv1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['-1', '8'] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: ['-1', '4'] }],
      properties: {},
    });
    expect(await t.call('ModelMetadata', { name: 'mlp' })).toEqual(meta);
  });

  it('ModelInfer with typed fp32_contents matches torch', async () => {
    const reply = await t.call<{
      model_name: string;
      model_version: string;
      id: string;
      outputs: { name: string; datatype: string; shape: string[] }[];
      raw_output_contents: Buffer[];
    }>('ModelInfer', {
      model_name: 'mlp',
      id: 'g-1',
      inputs: [
        {
          name: 'x',
          datatype: 'FP32',
          shape: [5, 8],
          contents: { fp32_contents: EXPECTED.mlp.inputs.x.data },
        },
      ],
    });
    expect(reply).toMatchObject({ model_name: 'mlp', model_version: '1', id: 'g-1' });
    expect(reply.outputs).toMatchObject([{ name: 'y', datatype: 'FP32', shape: ['5', '4'] }]);
    expect(closeTo(floats(reply.raw_output_contents[0]!), EXPECTED.mlp.outputs.y.data as number[])).toBe(
      true,
    );
  });

  it('ModelInfer with raw_input_contents and a chosen output of the multi-dtype model', async () => {
    const inputs = EXPECTED.multi.inputs;
    const ids = Buffer.alloc(8 * 12);
    (inputs.ids!.data as number[]).forEach((v, i) => {
      ids.writeBigInt64LE(BigInt(v), i * 8);
    });
    const mask = Buffer.from((inputs.mask!.data as boolean[]).map((b) => (b ? 1 : 0)));
    // the fp16 inputs are exact halves: 0.5 -1.25 3 100 / 0 2 -8 0.125 / 1 1.5 2.5 -0.75
    const h = Buffer.from(
      new Uint16Array([
        0x3800, 0xbd00, 0x4200, 0x5640, 0x0000, 0x4000, 0xc800, 0x3000, 0x3c00, 0x3e00, 0x4100, 0xba00,
      ]).buffer,
    );
    const reply = await t.call<{ outputs: { name: string }[]; raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: 'multi',
      model_version: '1',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [3, 4] },
        { name: 'ids', datatype: 'INT64', shape: [3, 4] },
        { name: 'mask', datatype: 'BOOL', shape: [3, 4] },
        { name: 'h', datatype: 'FP16', shape: [3, 4] },
      ],
      outputs: [{ name: 'doubled' }, { name: 'scaled' }],
      raw_input_contents: [rawFloats(inputs.a!.data as number[]), ids, mask, h],
    });
    expect(reply.outputs.map((o) => o.name)).toEqual(['doubled', 'scaled']);
    const doubled = new BigInt64Array(new Uint8Array(reply.raw_output_contents[0]!).buffer);
    expect(Array.from(doubled, Number)).toEqual(EXPECTED.multi.outputs.doubled!.data);
    expect(
      closeTo(floats(reply.raw_output_contents[1]!), EXPECTED.multi.outputs.scaled!.data as number[]),
    ).toBe(true);
  });
});

describe('gRPC errors', () => {
  const infer = (request: Record<string, unknown>) =>
    t.call('ModelInfer', request).then(
      () => undefined,
      (error: Error & { code: number; details: string }) => ({ code: error.code, details: error.details }),
    );

  it('NOT_FOUND for an unknown model or version', async () => {
    expect(await infer({ model_name: 'nope', inputs: [] })).toEqual({
      code: 5,
      details: 'unknown model nope',
    });
    expect(await infer({ model_name: 'mlp', model_version: '9', inputs: [] })).toEqual({
      code: 5,
      details: 'model mlp has no version 9 being served (serving 1)',
    });
    const meta = await t.call('ModelMetadata', { name: 'nope' }).catch((e: { code: number }) => e.code);
    expect(meta).toBe(5);
  });

  it('INVALID_ARGUMENT for bad inputs, naming the input and the rule', async () => {
    expect(
      await infer({
        model_name: 'mlp',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 8], contents: { fp32_contents: [1, 2] } }],
      }),
    ).toEqual({
      code: 3,
      details: 'input x (inputs[0].contents.fp32_contents): "data" has 2 elements but shape [1, 8] needs 8',
    });
    expect(
      await infer({
        model_name: 'mlp',
        inputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [1, 8],
            contents: { int_contents: [1, 2, 3, 4, 5, 6, 7, 8] },
          },
        ],
      }),
    ).toEqual({
      code: 3,
      details:
        'request field inputs[0].contents.int_contents: input x is FP32, whose data belongs in contents.fp32_contents',
    });
    expect(
      await infer({
        model_name: 'mlp',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 8] }],
        raw_input_contents: [Buffer.alloc(31)],
      }),
    ).toEqual({
      code: 3,
      details: 'input x (raw_input_contents[0]): binary data is 31 bytes but shape [1, 8] of FP32 needs 32',
    });
    expect(
      await infer({
        model_name: 'mlp',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 8] }],
        raw_input_contents: [Buffer.alloc(32), Buffer.alloc(32)],
      }),
    ).toEqual({
      code: 3,
      details: 'request field raw_input_contents: has 2 entries for 1 inputs (one per input, in order)',
    });
    expect(await infer({ model_name: 'mlp', inputs: [] })).toEqual({
      code: 3,
      details: 'inputs must not be empty',
    });
  });

  it('opens its HTTP/2 receive windows past 64 KiB, so many requests in flight do not wait on WINDOW_UPDATEs', async () => {
    const session = connect(`http://127.0.0.1:${t.server.grpcPort}`);
    try {
      // the server widens its windows as the connection opens; once our PING is answered, its
      // SETTINGS and WINDOW_UPDATE (sent before the answer) have been applied here
      await new Promise((resolve) => session.once('connect', resolve));
      await new Promise((resolve) => session.ping(resolve));
      expect(session.remoteSettings.initialWindowSize).toBe(GRPC_WINDOW_BYTES);
      expect(session.state.remoteWindowSize).toBe(GRPC_WINDOW_BYTES);
    } finally {
      session.close();
    }
  });
});
