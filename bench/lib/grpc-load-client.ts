/**
 * A lean gRPC unary client for the load generator, on node:http2: one HTTP/2 session shared by
 * every simulated client (as a gRPC channel is), each call a prebuilt length-prefixed message, the
 * answer read only as far as its HTTP status and grpc-status. @grpc/grpc-js's client cost ~130 µs
 * of CPU per call on this machine, which the server under test then lost on the same cores.
 */
import { type ClientHttp2Session, connect } from 'node:http2';

/** Large enough that 64 calls' answers in flight never wait for a WINDOW_UPDATE. */
const WINDOW_BYTES = 16 * 2 ** 20;

/** A gRPC message frame: compressed flag 0, 4-byte big-endian length, the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.byteLength, 1);
  return Buffer.concat([head, message]);
}

export class GrpcLoadClient {
  private constructor(private readonly session: ClientHttp2Session) {}

  static open(authority: string): Promise<GrpcLoadClient> {
    return new Promise((resolve, reject) => {
      const session = connect(authority, { settings: { initialWindowSize: WINDOW_BYTES } });
      session.once('error', reject);
      session.once('connect', () => {
        session.off('error', reject);
        session.setLocalWindowSize(WINDOW_BYTES);
        session.on('error', () => undefined); // each call's stream reports its own failure
        resolve(new GrpcLoadClient(session));
      });
    });
  }

  /** One unary call of `path` with a prebuilt frame; `done` gets an error unless grpc-status is 0. */
  call(path: string, frame: Buffer, done: (error: Error | undefined) => void): void {
    let status: string | undefined;
    let finished = false;
    const finish = (error: Error | undefined) => {
      if (finished) return;
      finished = true;
      done(error);
    };
    const stream = this.session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    // a trailers-only answer (an error) carries grpc-status in its headers
    stream.on('response', (headers) => {
      status = headers['grpc-status'] as string | undefined;
      if (headers[':status'] !== 200) finish(new Error(`HTTP ${headers[':status']}`));
    });
    stream.on('trailers', (trailers) => {
      status = trailers['grpc-status'] as string | undefined;
    });
    stream.on('data', () => undefined);
    stream.on('error', (error) => finish(error));
    stream.on('close', () => finish(status === '0' ? undefined : new Error(`grpc-status ${status}`)));
    stream.end(frame);
  }

  close(): void {
    this.session.destroy();
  }
}
