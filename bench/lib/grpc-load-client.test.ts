import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTO_OPTIONS, PROTO_PATH, type RunningServer, startServer } from '@ferry/serve';
import { GrpcLoadClient, grpcFrame } from './grpc-load-client.js';

/** The load generator's gRPC client against a real ferry server and the fixture MLP. */
let server: RunningServer;
let client: GrpcLoadClient;
const method = (
  grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS)) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  }
).inference.GRPCInferenceService.service.ModelInfer!;
const request = (model: string) =>
  grpcFrame(
    method.requestSerialize({
      model_name: model,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 8] }],
      raw_input_contents: [Buffer.from(new Float32Array(8).fill(0.5).buffer)],
    }),
  );
const call = (frame: Buffer) =>
  new Promise<Error | undefined>((resolve) => client.call(method.path, frame, resolve));

beforeAll(async () => {
  server = await startServer({
    path: new URL('../../fixtures/serve/mlp/1/model.onnx', import.meta.url).pathname,
    httpPort: null,
    grpcPort: 0,
    logger: pino({ level: 'silent' }),
  });
  client = await GrpcLoadClient.open(`http://127.0.0.1:${server.grpcPort}`);
});
afterAll(async () => {
  client.close();
  await server.close();
});

describe('load generator gRPC client', () => {
  it('completes calls that the server answers with grpc-status 0, many at once on one session', async () => {
    const frame = request('model');
    expect(await Promise.all(Array.from({ length: 20 }, () => call(frame)))).toEqual(
      Array(20).fill(undefined),
    );
  });

  it('fails a call the server refuses, with its grpc-status', async () => {
    expect((await call(request('no_such_model')))?.message).toBe(`grpc-status ${grpc.status.NOT_FOUND}`);
  });

  it('frames a message with a zero flag and its big-endian length', () => {
    expect([...grpcFrame(Uint8Array.of(7, 8, 9))]).toEqual([0, 0, 0, 0, 3, 7, 8, 9]);
  });
});
