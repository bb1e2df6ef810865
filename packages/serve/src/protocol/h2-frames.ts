/**
 * HTTP/2 framing (RFC 9113 section 4) for the lean gRPC front (lean-h2-connection.ts) and the
 * bench's load client: frame types, flags, error codes, the 9-byte frame header, and a reader that
 * cuts a byte stream into frames across TCP chunk boundaries.
 */

export const FRAME = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export const SETTING = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** RFC 9113 section 7, by code. */
export const ERROR_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
] as const;
export type ErrorName = (typeof ERROR_NAMES)[number];
export const errorCode = (name: ErrorName): number => ERROR_NAMES.indexOf(name);
export const errorName = (code: number): string => ERROR_NAMES[code] ?? `error code 0x${code.toString(16)}`;

/** RFC 9113 3.4: what a client sends first. */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FRAME_HEADER_BYTES = 9;
/** SETTINGS_MAX_FRAME_SIZE's default and least value, and its greatest (RFC 9113 6.5.2). */
export const MIN_MAX_FRAME_BYTES = 2 ** 14;
export const MAX_MAX_FRAME_BYTES = 2 ** 24 - 1;
/** The largest flow-control window and stream id (RFC 9113 6.9.1, 5.1.1). */
export const MAX_WINDOW = 2 ** 31 - 1;
export const MAX_STREAM_ID = 2 ** 31 - 1;
/** Every window's size before SETTINGS or WINDOW_UPDATE change it (RFC 9113 6.9.2). */
export const DEFAULT_WINDOW = 65_535;

/** An error of the whole connection (RFC 9113 5.4.1): the side that finds it sends GOAWAY with `code` and closes. */
export class H2ConnectionError extends Error {
  constructor(
    readonly code: ErrorName,
    message: string,
  ) {
    super(`HTTP/2 ${code}: ${message}`);
  }
}

/** Writes a frame header at `at` of `out`. */
export function writeFrameHeader(
  out: Buffer,
  at: number,
  length: number,
  type: number,
  flags: number,
  streamId: number,
): void {
  out.writeUIntBE(length, at, 3);
  out[at + 3] = type;
  out[at + 4] = flags;
  out.writeUInt32BE(streamId, at + 5);
}

/** A whole frame: header and payload. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = Buffer.alloc(0),
): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export type FrameHandler = (type: number, flags: number, streamId: number, payload: Buffer) => void;

/**
 * Cuts received bytes into frames. Bytes of a frame split across reads are kept until the rest
 * arrives; a frame longer than the reader's SETTINGS_MAX_FRAME_SIZE is a FRAME_SIZE_ERROR.
 */
export class FrameReader {
  private rest: Buffer | undefined;

  constructor(private readonly maxFrameBytes = MIN_MAX_FRAME_BYTES) {}

  push(chunk: Buffer, onFrame: FrameHandler): void {
    const bytes = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let at = 0;
    while (bytes.length - at >= FRAME_HEADER_BYTES) {
      const length = bytes.readUIntBE(at, 3);
      if (length > this.maxFrameBytes)
        throw new H2ConnectionError(
          'FRAME_SIZE_ERROR',
          `a frame of ${length} bytes (type ${bytes[at + 3]}), above the ${this.maxFrameBytes} allowed`,
        );
      const end = at + FRAME_HEADER_BYTES + length;
      if (end > bytes.length) break;
      const streamId = bytes.readUInt32BE(at + 5) & MAX_STREAM_ID; // the reserved bit is ignored (4.1)
      onFrame(bytes[at + 3]!, bytes[at + 4]!, streamId, bytes.subarray(at + FRAME_HEADER_BYTES, end));
      at = end;
    }
    // kept as a copy: the chunk's memory is not ours past this call
    if (at < bytes.length) this.rest = Buffer.from(bytes.subarray(at));
  }
}

/** The payload without its padding (RFC 9113 6.1, 6.2): Pad Length, then the padding at the end. */
export function unpadded(flags: number, payload: Buffer, what: string): Buffer {
  if (!(flags & FLAG.PADDED)) return payload;
  if (payload.length < 1) throw frameSizeError(`padded ${what}`, payload.length);
  const padding = payload[0]!;
  if (padding >= payload.length)
    throw protocolError(`${what} padding of ${padding} in a ${payload.length}-byte frame`);
  return payload.subarray(1, payload.length - padding);
}

/** A WINDOW_UPDATE frame: `increment` more bytes may be sent on the stream (0: the connection). */
export function windowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment, 0);
  return frame(FRAME.WINDOW_UPDATE, 0, streamId, payload);
}

/** An RST_STREAM frame: the stream is closed with error `code`. */
export function rstStream(streamId: number, code: ErrorName): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(errorCode(code), 0);
  return frame(FRAME.RST_STREAM, 0, streamId, payload);
}

export const protocolError = (message: string) => new H2ConnectionError('PROTOCOL_ERROR', message);
export const frameSizeError = (what: string, length: number) =>
  new H2ConnectionError('FRAME_SIZE_ERROR', `${what} frame of ${length} bytes`);
