import * as http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  CLIENT_PREFACE,
  FLAG,
  FRAME,
  FrameReader,
  frame,
  HpackDecoder,
  literalHeaderBlock,
  PROTO_OPTIONS,
  PROTO_PATH,
} from '../src/index.js';

export const MODEL_INFER_PATH = '/inference.GRPCInferenceService/ModelInfer';
/** ModelInfer's protobufjs reader and writer, to build request messages and read answers. */
export const MODEL_INFER_METHOD = (
  grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS)) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  }
).inference.GRPCInferenceService.service.ModelInfer!;

export interface Received {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/**
 * A raw HTTP/2 client for the lean gRPC front's tests: it writes exactly the frames a test gives
 * (protocol violations included), keeps every frame the server sends, and decodes header blocks.
 */
export class RawH2 {
  readonly frames: Received[] = [];
  readonly closed: Promise<void>;
  private readonly reader = new FrameReader(2 ** 24 - 1);
  private readonly decoder = new HpackDecoder();
  private waiters: (() => void)[] = [];
  private ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.reader.push(chunk, (type, flags, streamId, payload) =>
        this.frames.push({ type, flags, streamId, payload: Buffer.from(payload) }),
      );
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Connects; with `handshake`, writes the preface and a SETTINGS frame of `settings`. */
  static async open(port: number, settings: [number, number][] = [], handshake = true): Promise<RawH2> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawH2(socket);
    if (handshake) client.write(Buffer.concat([CLIENT_PREFACE, settingsFrame(settings)]));
    return client;
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send(type: number, flags: number, streamId: number, payload: Uint8Array = Buffer.alloc(0)): void {
    this.write(frame(type, flags, streamId, payload));
  }

  /** A request's HEADERS (one frame, END_HEADERS). */
  headers(streamId: number, fields: [string, string][], endStream = false): void {
    this.send(
      FRAME.HEADERS,
      FLAG.END_HEADERS | (endStream ? FLAG.END_STREAM : 0),
      streamId,
      literalHeaderBlock(fields),
    );
  }

  /** The first frame from `from` on that matches, waiting for it; undefined if the connection closes first. */
  async next(match: (f: Received) => boolean, from = 0): Promise<Received | undefined> {
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Sends a PING and waits for its ACK: everything the server wrote before it has arrived. */
  async roundTrip(): Promise<void> {
    const data = Buffer.from(`rt${Math.random().toString(36).slice(2, 8)}`.padEnd(8, '0').slice(0, 8));
    this.send(FRAME.PING, 0, 0, data);
    const ack = await this.next(
      (f) => f.type === FRAME.PING && (f.flags & FLAG.ACK) !== 0 && f.payload.equals(data),
    );
    if (!ack) throw new Error('the connection closed before the PING was acknowledged');
  }

  /** The GOAWAY's error code, once the server sends one (undefined if it closes without). */
  async goAwayCode(): Promise<number | undefined> {
    return (await this.next((f) => f.type === FRAME.GOAWAY))?.payload.readUInt32BE(4);
  }

  /** Each header block the server sent, decoded in order (the dynamic table kept in step). */
  headerBlocks(): { streamId: number; fields: Record<string, string>; end: boolean }[] {
    const blocks: { streamId: number; fields: Record<string, string>; end: boolean }[] = [];
    let pending: { streamId: number; chunks: Buffer[]; end: boolean } | undefined;
    for (const f of this.frames) {
      if (f.type === FRAME.HEADERS)
        pending = { streamId: f.streamId, chunks: [f.payload], end: (f.flags & FLAG.END_STREAM) !== 0 };
      else if (f.type === FRAME.CONTINUATION) pending?.chunks.push(f.payload);
      else continue;
      if (f.flags & FLAG.END_HEADERS && pending) {
        blocks.push({
          streamId: pending.streamId,
          fields: Object.fromEntries(this.decoder.decode(Buffer.concat(pending.chunks))),
          end: pending.end,
        });
        pending = undefined;
      }
    }
    return blocks;
  }

  /** The DATA payloads the server sent on a stream, concatenated. */
  body(streamId: number): Buffer {
    return Buffer.concat(
      this.frames.filter((f) => f.type === FRAME.DATA && f.streamId === streamId).map((f) => f.payload),
    );
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

export function settingsFrame(settings: [number, number][]): Buffer {
  const payload = Buffer.alloc(settings.length * 6);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, payload);
}

export interface Answer {
  headers: Record<string, unknown>;
  body: Buffer;
  trailers: Record<string, unknown>;
  rstCode: number;
}

/**
 * One gRPC-shaped call on node's HTTP/2 client, as a gRPC client sees it: a POST with `headers`
 * over the defaults, `chunks` written one by one, then its headers (less `date`), body, trailers
 * and reset code.
 */
export function h2Call(
  port: number,
  headers: Record<string, string>,
  chunks: Buffer[],
  end = true,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    const answer: Answer = { headers: {}, body: Buffer.alloc(0), trailers: {}, rstCode: 0 };
    const body: Buffer[] = [];
    stream.on('response', (h) => {
      answer.headers = { ...h };
      delete answer.headers.date;
    });
    stream.on('trailers', (h) => {
      answer.trailers = { ...h };
    });
    stream.on('data', (chunk: Buffer) => body.push(chunk));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      answer.body = Buffer.concat(body);
      answer.rstCode = stream.rstCode ?? 0;
      session.close();
      resolve(answer);
    });
    for (const chunk of chunks) stream.write(chunk);
    if (end) stream.end();
  });
}
