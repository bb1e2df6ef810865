import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcLoadClient, grpcFrame } from './grpc-load-client.js';
import {
  CLIENT_PREFACE,
  errorCode,
  FLAG,
  FRAME,
  FrameReader,
  frame,
  MAX_MAX_FRAME_BYTES,
  SETTING,
  literalHeaderBlock,
} from '@ferry/serve';

/**
 * The load generator's gRPC client against a TCP server that writes HTTP/2 frames as each test
 * says: protocol violations a real server would not commit, and fuzzed frame streams.
 */
interface Received {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** One connection as the server sees it: the client's frames so far, and a way to wait for some. */
class Peer {
  readonly frames: Received[] = [];
  private waiters: { until: (frames: Received[]) => boolean; resolve: () => void }[] = [];

  constructor(readonly socket: Socket) {}

  received(frame: Received): void {
    this.frames.push(frame);
    this.check();
  }

  /** Resolves once the client's frames so far satisfy `until`. */
  when(until: (frames: Received[]) => boolean): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ until, resolve });
      this.check();
    });
  }

  /** Resolves once the client's HEADERS of `count` calls have arrived. */
  requests(count: number): Promise<void> {
    return this.when((frames) => frames.filter((f) => f.type === FRAME.HEADERS).length >= count);
  }

  private check(): void {
    const ready = this.waiters.filter((waiter) => waiter.until(this.frames));
    this.waiters = this.waiters.filter((waiter) => !ready.includes(waiter));
    for (const waiter of ready) waiter.resolve();
  }
}

type Script = (peer: Peer) => Promise<void> | void;
let server: Server;
let url: string;
let script: Script = () => undefined;
/** Whether the server starts with its SETTINGS frame, as an HTTP/2 server must. */
let sendSettings = true;

beforeAll(async () => {
  server = createServer((socket) => {
    const peer = new Peer(socket);
    const reader = new FrameReader(MAX_MAX_FRAME_BYTES);
    let preface = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (preface.length < CLIENT_PREFACE.length) {
        preface = Buffer.concat([preface, chunk]);
        if (preface.length < CLIENT_PREFACE.length) return;
        chunk = preface.subarray(CLIENT_PREFACE.length);
      }
      reader.push(chunk, (type, flags, streamId, payload) =>
        peer.received({ type, flags, streamId, payload: Buffer.from(payload) }),
      );
    });
    if (sendSettings) socket.write(frame(FRAME.SETTINGS, 0, 0));
    void script(peer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const PATH = '/inference.GRPCInferenceService/ModelInfer';
const MESSAGE = grpcFrame(Buffer.from('request'));
const RESPONSE_HEADERS = literalHeaderBlock([
  [':status', '200'],
  ['content-type', 'application/grpc'],
]);
const TRAILERS = literalHeaderBlock([['grpc-status', '0']]);
const u32 = (...values: number[]) =>
  Buffer.concat(values.map((v) => Buffer.from([v >>> 24, v >>> 16, v >>> 8, v])));
const setting = (id: number, value: number) => Buffer.concat([Buffer.from([id >> 8, id]), u32(value)]);

/** Runs `script` on the server, opens a client and starts `calls` calls; returns their outcomes. */
async function against(next: Script, calls = 2) {
  script = next;
  const client = await GrpcLoadClient.open(url);
  const call = () => new Promise<Error | undefined>((resolve) => client.call(PATH, MESSAGE, resolve));
  const outcomes = await Promise.all(Array.from({ length: calls }, call));
  const later = await call();
  client.close();
  return { outcomes: outcomes.map((error) => error?.message), later: later?.message };
}

describe('load generator gRPC client, protocol violations', () => {
  const violations: [string, Buffer, string, RegExp][] = [
    [
      'a frame over 16 KiB',
      frame(FRAME.DATA, 0, 1, Buffer.alloc(20_000)),
      'FRAME_SIZE_ERROR',
      /a frame of 20000 bytes/,
    ],
    [
      'PUSH_PROMISE',
      frame(FRAME.PUSH_PROMISE, FLAG.END_HEADERS, 1, u32(2)),
      'PROTOCOL_ERROR',
      /PUSH_PROMISE/,
    ],
    [
      'HPACK index 0',
      frame(FRAME.HEADERS, FLAG.END_HEADERS, 1, Buffer.from([0x80])),
      'COMPRESSION_ERROR',
      /HPACK index 0/,
    ],
    [
      'a DATA frame inside a header block',
      Buffer.concat([frame(FRAME.HEADERS, 0, 1, RESPONSE_HEADERS), frame(FRAME.DATA, 0, 1, MESSAGE)]),
      'PROTOCOL_ERROR',
      /frame type 0 inside stream 1's header block/,
    ],
    [
      'HEADERS on a stream the client never opened',
      frame(FRAME.HEADERS, FLAG.END_HEADERS, 5, RESPONSE_HEADERS),
      'PROTOCOL_ERROR',
      /HEADERS on stream 5, which the client never opened/,
    ],
    [
      "a WINDOW_UPDATE past the connection window's 2^31 - 1",
      frame(FRAME.WINDOW_UPDATE, 0, 0, u32(2 ** 31 - 1)),
      'FLOW_CONTROL_ERROR',
      /send window above/,
    ],
    [
      'SETTINGS_MAX_FRAME_SIZE below 16 KiB',
      frame(FRAME.SETTINGS, 0, 0, setting(SETTING.MAX_FRAME_SIZE, 100)),
      'PROTOCOL_ERROR',
      /SETTINGS_MAX_FRAME_SIZE 100/,
    ],
    ['a 7-byte PING', frame(FRAME.PING, 0, 0, Buffer.alloc(7)), 'FRAME_SIZE_ERROR', /PING frame of 7 bytes/],
  ];
  for (const [name, bytes, code, message] of violations)
    it(`fails every call on ${name}, and sends GOAWAY ${code}`, async () => {
      let peer: Peer | undefined;
      const { outcomes, later } = await against(async (p) => {
        peer = p;
        await p.requests(2);
        p.socket.write(bytes);
      });
      for (const outcome of [...outcomes, later]) {
        expect(outcome).toMatch(new RegExp(`^HTTP/2 ${code}: `));
        expect(outcome).toMatch(message);
      }
      await peer!.when((frames) => frames.some((f) => f.type === FRAME.GOAWAY));
      const goaway = peer!.frames.find((f) => f.type === FRAME.GOAWAY)!;
      expect(goaway.payload.readUInt32BE(4)).toBe(errorCode(code as 'PROTOCOL_ERROR'));
    });

  it('fails only the call whose stream breaks the rules (DATA before HEADERS), with RST_STREAM', async () => {
    let peer: Peer | undefined;
    const { outcomes } = await against(async (p) => {
      peer = p;
      await p.requests(2);
      p.socket.write(
        Buffer.concat([
          frame(FRAME.DATA, 0, 1, MESSAGE),
          frame(FRAME.HEADERS, FLAG.END_HEADERS, 3, RESPONSE_HEADERS),
          frame(FRAME.DATA, 0, 3, MESSAGE),
          frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 3, TRAILERS),
        ]),
      );
      p.socket.end();
    });
    expect(outcomes).toEqual([
      'HTTP/2 PROTOCOL_ERROR on stream 1: DATA before the response headers',
      undefined,
    ]);
    const reset = peer!.frames.find((f) => f.type === FRAME.RST_STREAM)!;
    expect([reset.streamId, reset.payload.readUInt32BE(0)]).toEqual([1, errorCode('PROTOCOL_ERROR')]);
  });

  it('reads padded frames, a HEADERS frame with priority, and unknown frame types', async () => {
    const padded = (payload: Buffer, pad: number) =>
      Buffer.concat([Buffer.from([pad]), payload, Buffer.alloc(pad)]);
    const { outcomes } = await against(async (p) => {
      await p.requests(1);
      p.socket.write(
        Buffer.concat([
          frame(0xfa, 0, 1, Buffer.from('unknown')),
          frame(
            FRAME.HEADERS,
            FLAG.END_HEADERS | FLAG.PADDED | FLAG.PRIORITY,
            1,
            padded(Buffer.concat([u32(0), Buffer.from([15]), RESPONSE_HEADERS]), 3),
          ),
          frame(FRAME.DATA, FLAG.PADDED, 1, padded(MESSAGE, 10)),
          frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, TRAILERS),
        ]),
      );
      await p.requests(2);
      p.socket.end();
    }, 1);
    expect(outcomes).toEqual([undefined]);
  });

  it('refuses to open on a server that does not speak HTTP/2', async () => {
    sendSettings = false;
    script = (p) => {
      p.socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
    };
    try {
      await expect(GrpcLoadClient.open(url)).rejects.toThrow(
        /^HTTP\/2 FRAME_SIZE_ERROR: a frame of 4740180 bytes/,
      );
    } finally {
      sendSettings = true;
    }
  });
});

describe('load generator gRPC client, fuzzed frames', () => {
  const block = (fields: [string, string][]) => literalHeaderBlock(fields);
  const payloads = [
    block([[':status', '200']]),
    block([['grpc-status', '0']]),
    block([[':status', '503']]),
    Buffer.from('88', 'hex'), // indexed :status 200
    Buffer.from('4882640258', 'hex'), // C.6 Huffman, cut short
    Buffer.from('488264025885aec3771a4b', 'hex'),
    MESSAGE,
    u32(100),
    u32(0),
    setting(SETTING.INITIAL_WINDOW_SIZE, 10),
    setting(SETTING.MAX_CONCURRENT_STREAMS, 1),
    Buffer.alloc(8),
    Buffer.concat([u32(1), u32(0)]),
  ];
  const frameArb = fc.record({
    type: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 6, 7, 8, 9), fc.integer({ min: 0, max: 255 })),
    flags: fc.oneof(fc.constantFrom(0, 1, 4, 5, 8, 0x20, 0x25), fc.integer({ min: 0, max: 255 })),
    streamId: fc.constantFrom(0, 1, 3, 5, 2),
    payload: fc.oneof(
      fc.constantFrom(...payloads),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    ),
  });
  const flipsArb = fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), {
    maxLength: 3,
  });

  it('answers every call exactly once, whatever the server sends, and throws nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { maxLength: 12 }), flipsArb, async (frames, flips) => {
        const bytes = Buffer.concat(frames.map((f) => frame(f.type, f.flags, f.streamId, f.payload)));
        for (const { at, xor } of flips) if (bytes.length > 0) bytes[at % bytes.length]! ^= xor;
        script = async (p) => {
          await p.requests(2);
          p.socket.end(bytes);
        };
        const client = await GrpcLoadClient.open(url);
        const answered: number[] = [0, 0, 0];
        const call = (i: number) =>
          new Promise<void>((resolve) =>
            client.call(PATH, MESSAGE, (error) => {
              expect(error === undefined || error instanceof Error).toBe(true);
              answered[i]!++;
              resolve();
            }),
          );
        await Promise.all([call(0), call(1)]);
        await call(2); // a call after the connection is gone: refused, not lost
        client.close();
        expect(answered).toEqual([1, 1, 1]);
      }),
      { numRuns: 500 },
    );
  });

  it('cuts frames the same way however the bytes are split across reads', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (frames, cuts) => {
          const bytes = Buffer.concat(frames.map((f) => frame(f.type, f.flags, f.streamId, f.payload)));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const reader = new FrameReader();
          const seen: Received[] = [];
          let from = 0;
          for (const to of [...points, bytes.length]) {
            reader.push(bytes.subarray(from, to), (type, flags, streamId, payload) =>
              seen.push({ type, flags, streamId, payload: Buffer.from(payload) }),
            );
            from = to;
          }
          expect(seen).toEqual(
            frames.map((f) => ({ ...f, streamId: f.streamId, payload: Buffer.from(f.payload) })),
          );
        },
      ),
    );
  });
});
