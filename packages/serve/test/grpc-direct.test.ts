/*
 * ModelInfer's direct HTTP/2 path (grpc-direct-infer.ts) against @grpc/grpc-js's own: the same
 * call sent both ways (a `grpc-encoding: gzip` header with an uncompressed message sends it to
 * grpc-js, which reads such a message as identity) must get the same headers, bytes and trailers.
 * The server runs the default gRPC front, the lean one (lean-h2-front.ts): its DirectCall answers
 * the taken calls, its relay carries the others to grpc-js; lean-grpc-front.test.ts compares it
 * with the node:http2 front (grpcFront: 'node').
 */
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTO_OPTIONS, PROTO_PATH } from '../src/index.js';
import { MAX_BODY_BYTES } from '../src/limits.js';
import { MODEL_INFER_METHOD as method, MODEL_INFER_PATH as PATH, h2Call } from './raw-h2.helper.js';
import { EXPECTED, makeRepo, startTestServer, type TestServer } from './test-server.helper.js';

let repo: ReturnType<typeof makeRepo>;
let t: TestServer;
beforeAll(async () => {
  repo = makeRepo({
    mlp: null,
    slow: 'max_batch_size: 256\ndynamic_batching:\n  max_queue_size: 8\ninstances:\n  count: 1\n  intra_op_threads: 1\n',
  });
  t = await startTestServer(repo.root);
});
afterAll(async () => {
  await t.close();
  repo.cleanup();
});

const frame = (message: Buffer, flag = 0) => {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(message.byteLength, 1);
  return Buffer.concat([head, message]);
};
const requestBytes = (request: Record<string, unknown>) => method.requestSerialize(request);
const mlpRequest = (extra: Record<string, unknown> = {}) => ({
  model_name: 'mlp',
  id: 'direct-1',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 8] }],
  raw_input_contents: [
    Buffer.from(new Float32Array(EXPECTED.mlp.inputs.x.data.slice(0, 16) as number[]).buffer),
  ],
  ...extra,
});

/** One raw HTTP/2 call: the request headers given, `chunks` written one by one, then the answer. */
const rawCall = (chunks: Buffer[], headers: Record<string, string> = {}, end = true) =>
  h2Call(t.server.grpcPort!, { ':path': PATH, ...headers }, chunks, end);

/** The same call on the direct path and through grpc-js. */
const bothWays = async (chunks: Buffer[]) => ({
  direct: await rawCall(chunks),
  grpcJs: await rawCall(chunks, { 'grpc-encoding': 'gzip' }),
});

/** Calls grpc-js has started, over every server of this process (its public channelz service). */
const grpcJsCalls = () =>
  new Promise<number>((resolve, reject) =>
    (
      grpc.getChannelzHandlers().GetServers as unknown as (
        call: { request: unknown },
        done: (e: Error | null, v: { server: { data: { calls_started: string } }[] }) => void,
      ) => void
    )({ request: { start_server_id: 0, max_results: 0 } }, (error, value) =>
      error ? reject(error) : resolve(value.server.reduce((n, s) => n + Number(s.data.calls_started), 0)),
    ),
  );

describe('gRPC ModelInfer, direct path', () => {
  it('is taken for a plain call: grpc-js starts no call for it', async () => {
    const before = await grpcJsCalls();
    const reply = await t.call<{ id: string; raw_output_contents: Buffer[] }>('ModelInfer', mlpRequest());
    expect(reply.id).toBe('direct-1');
    expect(await grpcJsCalls()).toBe(before);
    await t.call('ServerLive', {});
    expect(await grpcJsCalls()).toBe(before + 1);
  });

  it('answers byte for byte what grpc-js answers: success, parameters (generic decoder), errors', async () => {
    const calls = [
      mlpRequest(),
      mlpRequest({ outputs: [{ name: 'y' }], model_version: '1' }),
      mlpRequest({ parameters: { timeout: { int64_param: 5_000_000 } } }),
      {
        model_name: 'mlp',
        inputs: [
          {
            name: 'x',
            datatype: 'FP32',
            shape: [1, 8],
            contents: { fp32_contents: [1, 2, 3, 4, 5, 6, 7, 8] },
          },
        ],
      },
      mlpRequest({ model_name: 'nope' }), // NOT_FOUND
      mlpRequest({ model_version: '7' }), // NOT_FOUND
      mlpRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 9] }] }), // INVALID_ARGUMENT
      mlpRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 8] }] }),
      mlpRequest({ outputs: [{ name: 'z' }] }),
      mlpRequest({ raw_input_contents: [Buffer.alloc(3)] }),
      {},
    ];
    for (const request of calls) {
      const { direct, grpcJs } = await bothWays([frame(requestBytes(request))]);
      expect(direct).toEqual(grpcJs);
    }
    const notFound = await rawCall([frame(requestBytes(mlpRequest({ model_name: 'nope' })))]);
    expect(notFound.headers['grpc-status']).toBe('5');
    const badShape = await rawCall([
      frame(requestBytes(mlpRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 9] }] }))),
    ]);
    expect(badShape.headers['grpc-status']).toBe('3');
    expect(decodeURI(String(badShape.headers['grpc-message']))).toContain('x');
  });

  it('refuses what grpc-js refuses, with its codes and messages', async () => {
    const message = requestBytes(mlpRequest());
    const tooLarge = Buffer.from([0, 0, 0, 0, 0]);
    tooLarge.writeUInt32BE(MAX_BODY_BYTES + 1, 1);
    const cases: Buffer[][] = [
      [tooLarge], // RESOURCE_EXHAUSTED
      [], // no message: UNIMPLEMENTED
      [frame(message), frame(message)], // two messages: UNIMPLEMENTED
      [Buffer.concat([frame(message), Buffer.from([0, 0])])], // a partial second prefix is ignored
      [frame(Buffer.from([0xff, 0xff, 0xff]))], // not protobuf: INTERNAL
      [frame(Buffer.alloc(0))], // an empty message: every field default
    ];
    for (const chunks of cases) {
      const { direct, grpcJs } = await bothWays(chunks);
      expect(direct).toEqual(grpcJs);
    }
    const refused = await rawCall([tooLarge]);
    expect(refused.headers['grpc-status']).toBe(String(grpc.status.RESOURCE_EXHAUSTED));
    expect(decodeURI(String(refused.headers['grpc-message']))).toBe(
      `Received message larger than max (${MAX_BODY_BYTES + 1} vs ${MAX_BODY_BYTES})`,
    );
    expect((await rawCall([])).headers['grpc-status']).toBe(String(grpc.status.UNIMPLEMENTED));
    // the compressed flag without grpc-encoding: grpc-js reads the message as identity, so does this path
    expect(await rawCall([frame(message, 1)])).toEqual(await rawCall([frame(message)]));
  });

  it('reads a message split across DATA frames at any byte', async () => {
    const bytes = frame(requestBytes(mlpRequest()));
    const whole = await rawCall([bytes]);
    expect(whole.trailers['grpc-status']).toBe('0');
    for (const cut of [1, 3, 5, 6, 40, bytes.byteLength - 1]) {
      const split = await rawCall([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(split).toEqual(whole);
    }
  });

  it('survives fuzzed and truncated frames, and answers normally after them', async () => {
    const bytes = frame(requestBytes(mlpRequest()));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: bytes.byteLength }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        async (cut, flips) => {
          const mutated = Buffer.from(bytes.subarray(0, cut));
          for (const [at, value] of flips)
            if (mutated.byteLength > 5) mutated[5 + (at % (mutated.byteLength - 5))] = value;
          const answer = await rawCall([mutated]);
          // every call ends with a status: trailers-only for errors, trailers after a message
          const status = answer.headers['grpc-status'] ?? answer.trailers['grpc-status'];
          expect(status).toBeDefined();
        },
      ),
      { numRuns: 60, seed: 21 },
    );
    const reply = await t.call<{ id: string }>('ModelInfer', mlpRequest());
    expect(reply.id).toBe('direct-1');
  });

  it('ends a call at its grpc-timeout with DEADLINE_EXCEEDED, dropping it from the queue', async () => {
    const slow = () => t.server.repository.resolve('slow').batcher;
    const blocker = fetch(`${t.url}/v2/models/slow/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'x', shape: [256, 1], datatype: 'FP32', data: new Array(256).fill(1) }],
      }),
    });
    for (let i = 0; i < 2000 && slow().executing !== 1; i++) await new Promise((r) => setTimeout(r, 5));
    const request = frame(
      requestBytes({
        model_name: 'slow',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1] }],
        raw_input_contents: [Buffer.from(new Float32Array([0.5]).buffer)],
      }),
    );
    const viaClient = new Promise<number>((resolve) =>
      t.grpc.ModelInfer!.call(
        t.grpc,
        method.requestDeserialize(request.subarray(5)),
        { deadline: Date.now() + 50 },
        (error: grpc.ServiceError | null) => resolve(error?.code ?? 0),
      ),
    );
    const answer = await rawCall([request], { 'grpc-timeout': '20m' });
    expect(answer.headers['grpc-status']).toBe(String(grpc.status.DEADLINE_EXCEEDED));
    expect(answer.headers['grpc-message']).toBe('Deadline%20exceeded');
    expect(await viaClient).toBe(grpc.status.DEADLINE_EXCEEDED);
    // the client's own deadline may fire first: its RST_STREAM reaches the server a moment later
    for (let i = 0; i < 400 && slow().pending !== 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(slow().pending).toBe(0);
    expect((await blocker).status).toBe(200);
  });

  it.each([
    ['taken', {}],
    ['relayed to grpc-js', { 'grpc-encoding': 'gzip' }],
  ])('drops a queued call (%s) from the queue when its client resets the stream', async (_path, extra) => {
    const slow = () => t.server.repository.resolve('slow').batcher;
    const blocker = fetch(`${t.url}/v2/models/slow/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'x', shape: [256, 1], datatype: 'FP32', data: new Array(256).fill(1) }],
      }),
    });
    for (let i = 0; i < 2000 && slow().executing !== 1; i++) await new Promise((r) => setTimeout(r, 5));
    const session = http2.connect(`http://127.0.0.1:${t.server.grpcPort}`);
    session.on('error', () => undefined);
    const stream = session.request({
      ':method': 'POST',
      ':path': PATH,
      'content-type': 'application/grpc',
      ...extra,
    });
    stream.on('error', () => undefined);
    stream.end(
      frame(
        requestBytes({
          model_name: 'slow',
          inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1] }],
          raw_input_contents: [Buffer.from(new Float32Array([0.5]).buffer)],
        }),
      ),
    );
    for (let i = 0; i < 2000 && slow().pending !== 1; i++) await new Promise((r) => setTimeout(r, 5));
    expect(slow().pending).toBe(1);
    stream.close(http2.constants.NGHTTP2_CANCEL);
    for (let i = 0; i < 2000 && slow().pending !== 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(slow().pending).toBe(0);
    expect((await blocker).status).toBe(200);
    session.close();
  });

  it('leaves a compressed call to grpc-js, which answers it as before', async () => {
    const client = new (
      grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS)) as unknown as {
        inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
      }
    ).inference.GRPCInferenceService(`127.0.0.1:${t.server.grpcPort}`, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
    });
    try {
      const before = await grpcJsCalls();
      const reply = await new Promise<{ id: string; raw_output_contents: Buffer[] }>((resolve, reject) =>
        client.ModelInfer!(
          mlpRequest(),
          (e: Error | null, v: { id: string; raw_output_contents: Buffer[] }) => (e ? reject(e) : resolve(v)),
        ),
      );
      expect(reply.id).toBe('direct-1');
      expect(reply.raw_output_contents[0]!.byteLength).toBe(2 * 4 * 4);
      expect(await grpcJsCalls()).toBe(before + 1);
    } finally {
      client.close();
    }
  });
});
