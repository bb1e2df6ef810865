/**
 * The two servers ferry serve is measured against, shared by the serve suites:
 * - the naive server a user would write by hand (fastify + onnxruntime-node, JSON, one run per
 *   request, ONNX Runtime's default options),
 * - the transport floor: bare node:http answering each request with a response of the same size
 *   as ferry's binary answer, no model: what one request costs before any inference is done,
 * - and its gRPC twin: bare node:http2 answering each call with the headers, message size and
 *   trailers ferry's ModelInfer answers with.
 */
import { createServer, type Server } from 'node:http';
import { type Http2Server, createServer as createHttp2Server, type ServerHttp2Stream } from 'node:http2';
import Fastify, { type FastifyInstance } from 'fastify';
import * as ort from 'onnxruntime-node';

/** Bytes of ferry's binary answer beyond the output's data (its JSON header and HTTP framing differ). */
const ANSWER_HEADER_BYTES = 160;

export async function naiveServer(
  path: string,
): Promise<{ app: FastifyInstance; port: number; session: ort.InferenceSession }> {
  const session = await ort.InferenceSession.create(path);
  const app = Fastify({ bodyLimit: 64 * 2 ** 20 });
  app.post('/v2/models/:model/infer', async (req) => {
    const input = (req.body as { inputs: { shape: number[]; data: number[] }[] }).inputs[0]!;
    const out = await session.run({
      x: new ort.Tensor('float32', Float32Array.from(input.data), input.shape),
    });
    const y = out.y!;
    return {
      model_name: 'naive',
      outputs: [{ name: 'y', datatype: 'FP32', shape: y.dims, data: Array.from(y.data as Float32Array) }],
    };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as { port: number }).port, session };
}

/** The floor for a model with `features` FP32 outputs per row. */
export async function echoServer(features: number): Promise<{ server: Server; port: number }> {
  const answer = Buffer.alloc(features * 4 + ANSWER_HEADER_BYTES);
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': answer.length });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

/** Bytes of ferry's ModelInferResponse beyond the output's data (names, datatype, shape, field tags). */
const GRPC_ANSWER_HEADER_BYTES = 30;
/** ferry's gRPC receive window (packages/serve limits.ts GRPC_WINDOW_BYTES), so flow control matches. */
const GRPC_WINDOW_BYTES = 4 * 2 ** 20;

/**
 * The gRPC floor for a model with `features` FP32 outputs per row: each call's message read to
 * its end, then the answer ferry gives (its response headers, one length-prefixed message of the
 * same size in a buffer of its own, grpc-status trailers), no parsing and no model.
 */
export async function grpcEchoServer(features: number): Promise<{ server: Http2Server; port: number }> {
  const size = features * 4 + GRPC_ANSWER_HEADER_BYTES;
  const server = createHttp2Server({ settings: { initialWindowSize: GRPC_WINDOW_BYTES } });
  server.on('session', (session) => session.setLocalWindowSize(GRPC_WINDOW_BYTES));
  server.on('stream', (stream: ServerHttp2Stream) => {
    stream.on('data', () => undefined);
    stream.once('end', () => {
      const frame = Buffer.allocUnsafe(5 + size);
      frame[0] = 0;
      frame.writeUInt32BE(size, 1);
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc+proto',
          'grpc-accept-encoding': 'identity,deflate,gzip',
          'grpc-encoding': 'identity',
        },
        { waitForTrailers: true },
      );
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': 0, 'grpc-message': 'OK' }));
      stream.end(frame);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}
