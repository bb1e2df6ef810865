/*
 * The gRPC port's lean HTTP/2 front (protocol/lean-h2-*.ts) against raw clients: the connection's
 * HTTP/2 as RFC 9113 asks of a server, its hard limits, flow control with a client of small
 * windows, the relay to grpc-js, graceful shutdown, and a fuzz of its input. The calls it answers
 * itself are compared with grpc-js's own answers in grpc-direct.test.ts (which runs through it).
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_PREFACE,
  errorCode,
  FLAG,
  FRAME,
  literalHeaderBlock,
  PROTO_OPTIONS,
  PROTO_PATH,
  SETTING,
} from '../src/index.js';
import { GRPC_WINDOW_BYTES } from '../src/limits.js';
import { MODEL_INFER_METHOD as method, MODEL_INFER_PATH as PATH, h2Call, RawH2 } from './raw-h2.helper.js';
import { EXPECTED, makeRepo, startTestServer, type TestServer } from './test-server.helper.js';

let repo: ReturnType<typeof makeRepo>;
let t: TestServer;
let node: TestServer;
beforeAll(async () => {
  repo = makeRepo({ mlp: null });
  cpSync(join(repo.root, 'mlp'), join(repo.root, 'big'), { recursive: true });
  writeFileSync(join(repo.root, 'big', 'config.yaml'), 'max_batch_size: 32768\n');
  t = await startTestServer(repo.root);
  node = await startTestServer(repo.root, { grpcFront: 'node' });
});
afterAll(async () => {
  await t.close();
  await node.close();
  repo.cleanup();
});

const grpcFrame = (message: Buffer) => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.byteLength, 1);
  return Buffer.concat([head, message]);
};
const inferRequest = grpcFrame(
  method.requestSerialize({
    model_name: 'mlp',
    id: 'lean-1',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 8] }],
    raw_input_contents: [
      Buffer.from(new Float32Array(EXPECTED.mlp.inputs.x.data.slice(0, 16) as number[]).buffer),
    ],
  }),
);
const requestHeaders = (path = PATH): [string, string][] => [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':path', path],
  [':authority', 'localhost'],
  ['content-type', 'application/grpc'],
  ['te', 'trailers'],
];
const port = () => t.server.grpcPort!;
/** A request to the `big` copy of the MLP (batches up to 32768) of `rows` rows: its answer is rows * 16 bytes. */
const bigRequest = (rows: number) => ({
  model_name: 'big',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, 8] }],
  raw_input_contents: [Buffer.from(new Float32Array(rows * 8).map((_, i) => (i % 97) / 97).buffer)],
});

describe('lean gRPC front: HTTP/2 connection', () => {
  it('serves the port itself: its SETTINGS first, then PING and SETTINGS acknowledged', async () => {
    const c = await RawH2.open(port());
    const settings = await c.next((f) => f.type === FRAME.SETTINGS && !(f.flags & FLAG.ACK));
    const values = new Map<number, number>();
    for (let at = 0; at < settings!.payload.length; at += 6)
      values.set(settings!.payload.readUInt16BE(at), settings!.payload.readUInt32BE(at + 2));
    expect(values.get(SETTING.INITIAL_WINDOW_SIZE)).toBe(GRPC_WINDOW_BYTES);
    expect(values.get(SETTING.MAX_CONCURRENT_STREAMS)).toBe(1024);
    expect(values.get(SETTING.MAX_HEADER_LIST_SIZE)).toBe(64 * 1024);
    expect(await c.next((f) => f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) !== 0)).toBeDefined();
    await c.roundTrip();
    c.close();
  });

  it('answers ModelInfer on a raw connection: headers, the message, grpc-status 0', async () => {
    const c = await RawH2.open(port());
    c.headers(1, requestHeaders());
    c.send(FRAME.DATA, FLAG.END_STREAM, 1, inferRequest);
    await c.next((f) => f.type === FRAME.HEADERS && f.streamId === 1 && (f.flags & FLAG.END_STREAM) !== 0);
    const [head, trailers] = c.headerBlocks();
    expect(head!.fields).toMatchObject({ ':status': '200', 'content-type': 'application/grpc+proto' });
    expect(trailers!.fields).toEqual({ 'grpc-status': '0', 'grpc-message': 'OK' });
    expect((method.responseDeserialize(c.body(1).subarray(5)) as { id: string }).id).toBe('lean-1');
    c.close();
  });

  it.each([
    ['a bad preface', Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n'), 'PROTOCOL_ERROR'],
    [
      'a first frame that is not SETTINGS',
      Buffer.concat([CLIENT_PREFACE, Buffer.from('000008060000000000', 'hex'), Buffer.alloc(8)]),
      'PROTOCOL_ERROR',
    ],
  ] as const)('ends the connection on %s with GOAWAY', async (_what, bytes, code) => {
    const c = await RawH2.open(port(), [], false);
    c.write(bytes);
    expect(await c.goAwayCode()).toBe(errorCode(code));
    await c.closed;
  });

  it('refuses a header block beyond its limits: size, CONTINUATION flood, bad HPACK', async () => {
    const big = await RawH2.open(port());
    big.send(FRAME.HEADERS, 0, 1, Buffer.alloc(16_384));
    for (let i = 0; i < 4; i++) big.send(FRAME.CONTINUATION, 0, 1, Buffer.alloc(16_384));
    expect(await big.goAwayCode()).toBe(errorCode('ENHANCE_YOUR_CALM'));
    const flood = await RawH2.open(port());
    flood.send(FRAME.HEADERS, 0, 1, literalHeaderBlock(requestHeaders()));
    for (let i = 0; i < 40; i++) flood.send(FRAME.CONTINUATION, 0, 1);
    expect(await flood.goAwayCode()).toBe(errorCode('ENHANCE_YOUR_CALM'));
    const bad = await RawH2.open(port());
    bad.send(FRAME.HEADERS, FLAG.END_HEADERS, 1, Buffer.from([0x80])); // index 0
    expect(await bad.goAwayCode()).toBe(errorCode('COMPRESSION_ERROR'));
    const other = await RawH2.open(port());
    other.send(FRAME.HEADERS, FLAG.END_HEADERS, 1, literalHeaderBlock(requestHeaders()));
    other.send(FRAME.DATA, 0, 3, Buffer.alloc(1)); // DATA on an idle stream
    expect(await other.goAwayCode()).toBe(errorCode('PROTOCOL_ERROR'));
  });

  it('resets a stream whose header list is over MAX_HEADER_LIST_SIZE, and keeps the connection', async () => {
    const c = await RawH2.open(port());
    const many: [string, string][] = Array.from({ length: 2100 }, (_, i) => [`x${i % 10}`, 'v']);
    c.send(
      FRAME.HEADERS,
      FLAG.END_HEADERS | FLAG.END_STREAM,
      1,
      literalHeaderBlock([...requestHeaders(), ...many]),
    );
    const reset = await c.next((f) => f.type === FRAME.RST_STREAM && f.streamId === 1);
    expect(reset!.payload.readUInt32BE(0)).toBe(errorCode('PROTOCOL_ERROR'));
    await c.roundTrip();
    c.close();
  });

  it('ends a connection that resets streams as fast as it opens them (rapid reset)', async () => {
    const c = await RawH2.open(port());
    const rst = Buffer.alloc(4);
    rst.writeUInt32BE(errorCode('CANCEL'));
    const bytes: Buffer[] = [];
    for (let id = 1; id < 2 * 1100; id += 2) {
      bytes.push(Buffer.concat([headerFrame(id), rstFrame(id, rst)]));
    }
    c.write(Buffer.concat(bytes));
    expect(await c.goAwayCode()).toBe(errorCode('ENHANCE_YOUR_CALM'));
  });

  it('ends a connection that floods frames without requests (PINGs) with ENHANCE_YOUR_CALM', async () => {
    const c = await RawH2.open(port());
    const ping = Buffer.from('000008060000000000', 'hex');
    c.write(Buffer.concat(Array.from({ length: 12_000 }, () => Buffer.concat([ping, Buffer.alloc(8)]))));
    expect(await c.goAwayCode()).toBe(errorCode('ENHANCE_YOUR_CALM'));
  });

  it('ends a connection whose header block is left unfinished past the request timeout', async () => {
    const own = await startTestServer(repo.root, {
      limits: { requestTimeoutMs: 200, headersTimeoutMs: 200 },
    });
    try {
      const c = await RawH2.open(own.server.grpcPort!);
      await c.roundTrip();
      c.send(FRAME.HEADERS, 0, 1, literalHeaderBlock(requestHeaders()));
      expect(await c.goAwayCode()).toBe(errorCode('ENHANCE_YOUR_CALM'));
      await c.closed;
    } finally {
      await own.close();
    }
  });

  it('ends a connection whose window would pass 2^31-1 with FLOW_CONTROL_ERROR', async () => {
    const c = await RawH2.open(port());
    const increment = Buffer.alloc(4);
    increment.writeUInt32BE(2 ** 31 - 1);
    c.send(FRAME.WINDOW_UPDATE, 0, 0, increment);
    expect(await c.goAwayCode()).toBe(errorCode('FLOW_CONTROL_ERROR'));
  });

  it('answers a large message to a client of small windows, never past them', async () => {
    const c = await RawH2.open(port(), [[SETTING.INITIAL_WINDOW_SIZE, 1000]]);
    c.headers(1, requestHeaders());
    const request = grpcFrame(method.requestSerialize(bigRequest(20_000)));
    for (let at = 0; at < request.length; at += 16_384) {
      const last = at + 16_384 >= request.length;
      c.send(FRAME.DATA, last ? FLAG.END_STREAM : 0, 1, request.subarray(at, at + 16_384));
    }
    let streamGranted = 1000;
    let connectionGranted = 65_535;
    const increment = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    while (!c.headerBlocks().some((b) => b.end)) {
      const seen = await c.next((f) => f.type === FRAME.DATA || f.type === FRAME.GOAWAY, c.frames.length);
      expect(seen?.type).toBe(FRAME.DATA);
      await c.roundTrip();
      const got = c.body(1).length;
      expect(got).toBeLessThanOrEqual(Math.min(streamGranted, connectionGranted));
      c.send(FRAME.WINDOW_UPDATE, 0, 1, increment(7000));
      streamGranted += 7000;
      if (connectionGranted - got < 20_000) {
        c.send(FRAME.WINDOW_UPDATE, 0, 0, increment(30_000));
        connectionGranted += 30_000;
      }
    }
    const reply = method.responseDeserialize(c.body(1).subarray(5)) as { raw_output_contents: Buffer[] };
    expect(reply.raw_output_contents[0]!.byteLength).toBe(20_000 * 16);
    c.close();
  });

  it('sends no DATA beyond a small client window, and the rest once the window opens', async () => {
    const c = await RawH2.open(port(), [[SETTING.INITIAL_WINDOW_SIZE, 10]]);
    c.headers(1, requestHeaders());
    c.send(FRAME.DATA, FLAG.END_STREAM, 1, inferRequest);
    await c.next((f) => f.type === FRAME.DATA && f.streamId === 1);
    await c.roundTrip();
    expect(c.body(1).length).toBe(10);
    expect(c.headerBlocks().some((b) => b.end)).toBe(false); // trailers wait behind the DATA
    const increment = Buffer.alloc(4);
    increment.writeUInt32BE(1 << 20);
    c.send(FRAME.WINDOW_UPDATE, 0, 1, increment);
    await c.next((f) => f.type === FRAME.HEADERS && (f.flags & FLAG.END_STREAM) !== 0);
    const whole = await RawH2.open(port());
    whole.headers(1, requestHeaders());
    whole.send(FRAME.DATA, FLAG.END_STREAM, 1, inferRequest);
    await whole.next((f) => f.type === FRAME.HEADERS && (f.flags & FLAG.END_STREAM) !== 0);
    expect(c.body(1)).toEqual(whole.body(1));
    c.close();
    whole.close();
  });
});

function headerFrame(id: number): Buffer {
  const block = literalHeaderBlock(requestHeaders());
  const out = Buffer.alloc(9 + block.length);
  out.writeUIntBE(block.length, 0, 3);
  out[3] = FRAME.HEADERS;
  out[4] = FLAG.END_HEADERS;
  out.writeUInt32BE(id, 5);
  block.copy(out, 9);
  return out;
}

function rstFrame(id: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(13);
  out.writeUIntBE(4, 0, 3);
  out[3] = FRAME.RST_STREAM;
  out.writeUInt32BE(id, 5);
  payload.copy(out, 9);
  return out;
}

describe('lean gRPC front: relay to grpc-js', () => {
  it('gives every method, unknown ones and a gzip ModelInfer the answers grpc-js gives on its own port', async () => {
    const service = '/inference.GRPCInferenceService/';
    const cases: [string, Buffer, Record<string, string>][] = [
      [`${service}ServerLive`, grpcFrame(Buffer.alloc(0)), {}],
      [`${service}ServerMetadata`, grpcFrame(Buffer.alloc(0)), {}],
      [`${service}ModelMetadata`, grpcFrame(Buffer.from([0x0a, 0x03, 0x6d, 0x6c, 0x70])), {}],
      [`${service}ModelReady`, grpcFrame(Buffer.from([0x0a, 0x04, 0x6e, 0x6f, 0x70, 0x65])), {}],
      [`${service}Nope`, grpcFrame(Buffer.alloc(0)), {}],
      ['/other.Service/Call', grpcFrame(Buffer.alloc(0)), {}],
      // taken by both fronts: the lean stream and node:http2's give the same answer
      [PATH, inferRequest, {}],
      [PATH, grpcFrame(Buffer.from([0xff, 0xff])), {}],
      [PATH, inferRequest, { 'grpc-encoding': 'gzip' }],
      [PATH, inferRequest, { 'content-type': 'application/json' }],
      [PATH, inferRequest, { 'grpc-timeout': 'bogus' }],
    ];
    for (const [path, body, headers] of cases) {
      const lean = await h2Call(t.server.grpcPort!, { ':path': path, ...headers }, [body]);
      const direct = await h2Call(node.server.grpcPort!, { ':path': path, ...headers }, [body]);
      expect(lean, path).toEqual(direct);
    }
  });

  it('relays a large request and its answer across many DATA frames and window updates', async () => {
    const client = new (
      grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS)) as unknown as {
        inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
      }
    ).inference.GRPCInferenceService(`127.0.0.1:${port()}`, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
    });
    try {
      const rows = 20_000;
      const reply = await new Promise<{ raw_output_contents: Buffer[] }>((resolve, reject) =>
        client.ModelInfer!(bigRequest(rows), (e: Error | null, v: { raw_output_contents: Buffer[] }) =>
          e ? reject(e) : resolve(v),
        ),
      );
      expect(reply.raw_output_contents[0]!.byteLength).toBe(rows * 4 * 4);
    } finally {
      client.close();
    }
  });
});

describe('lean gRPC front: shutdown and fuzz', () => {
  it('survives any frame sequence: no throw, every connection ends or answers, the port still serves', async () => {
    const frameArb = fc.record({
      type: fc.integer({ min: 0, max: 11 }),
      flags: fc.integer({ min: 0, max: 255 }),
      streamId: fc.integer({ min: 0, max: 7 }),
      payload: fc.uint8Array({ maxLength: 40 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { maxLength: 12 }), fc.boolean(), async (frames, headersFirst) => {
        const c = await RawH2.open(port());
        if (headersFirst) c.headers(1, requestHeaders());
        for (const f of frames) c.send(f.type, f.flags, f.streamId, f.payload);
        // the server either ends the connection or still answers a PING after all of it
        const pinged = Buffer.from('fuzzping');
        c.send(FRAME.PING, 0, 0, pinged);
        await c.next(
          (f) =>
            (f.type === FRAME.PING && (f.flags & FLAG.ACK) !== 0 && f.payload.equals(pinged)) ||
            f.type === FRAME.GOAWAY,
        );
        c.close();
        await c.closed;
      }),
      { numRuns: 150, seed: 21 },
    );
    const c = await RawH2.open(port());
    c.headers(1, requestHeaders());
    c.send(FRAME.DATA, FLAG.END_STREAM, 1, inferRequest);
    const trailers = await c.next((f) => f.type === FRAME.HEADERS && (f.flags & FLAG.END_STREAM) !== 0);
    expect(trailers).toBeDefined();
    c.close();
  });

  it('finishes calls in flight on shutdown, sends GOAWAY, and takes no new connection', async () => {
    const own = await startTestServer(repo.root);
    const c = await RawH2.open(own.server.grpcPort!);
    for (let id = 1; id <= 15; id += 2) {
      c.headers(id, requestHeaders());
      c.send(FRAME.DATA, FLAG.END_STREAM, id, inferRequest);
    }
    await c.next((f) => f.type === FRAME.HEADERS && f.streamId === 1);
    const closing = own.close();
    expect(await c.goAwayCode()).toBe(errorCode('NO_ERROR'));
    await c.closed;
    const ends = c.headerBlocks().filter((b) => b.end);
    expect(ends.map((b) => b.streamId).sort((a, b) => a - b)).toEqual([1, 3, 5, 7, 9, 11, 13, 15]);
    for (const end of ends) expect(end.fields['grpc-status']).toBe('0');
    await closing;
    await expect(RawH2.open(own.server.grpcPort!)).rejects.toThrow();
  });
});
