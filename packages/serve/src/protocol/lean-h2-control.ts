import { GRPC_MAX_CONCURRENT_STREAMS, GRPC_WINDOW_BYTES } from '../limits.js';
import {
  DEFAULT_WINDOW,
  type ErrorName,
  errorCode,
  FLAG,
  FRAME,
  frame,
  SETTING,
  windowUpdate,
} from './h2-frames.js';
import { KEEPALIVE_TIME_MS, KEEPALIVE_TIMEOUT_MS } from './grpc-limits.js';
import { MAX_HEADER_LIST_BYTES } from './lean-h2-headers.js';

/**
 * The lean gRPC front's own connection-level frames, built once: its SETTINGS (what grpc-js's
 * server announces, with the receive window grpc.ts opens), their acknowledgement, and GOAWAY.
 */
export const SERVER_SETTINGS = (() => {
  const settings = [
    [SETTING.MAX_CONCURRENT_STREAMS, GRPC_MAX_CONCURRENT_STREAMS],
    [SETTING.INITIAL_WINDOW_SIZE, GRPC_WINDOW_BYTES],
    [SETTING.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST_BYTES],
    [SETTING.ENABLE_PUSH, 0],
  ];
  const payload = Buffer.alloc(settings.length * 6);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id!, i * 6);
    payload.writeUInt32BE(value!, i * 6 + 2);
  });
  // the connection's window opened to GRPC_WINDOW_BYTES too, as grpc.ts does for grpc-js's sessions
  return Buffer.concat([
    frame(FRAME.SETTINGS, 0, 0, payload),
    windowUpdate(0, GRPC_WINDOW_BYTES - DEFAULT_WINDOW),
  ]);
})();
export const SETTINGS_ACK = frame(FRAME.SETTINGS, FLAG.ACK, 0);

/** GOAWAY: streams above `lastStream` were not and will not be processed. */
export function goAwayFrame(lastStream: number, code: ErrorName): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(lastStream, 0);
  payload.writeUInt32BE(errorCode(code), 4);
  return frame(FRAME.GOAWAY, 0, 0, payload);
}

/**
 * Keepalive pings, as grpc-limits.ts sets grpc-js's: every KEEPALIVE_TIME_MS a PING; a peer that
 * has not acknowledged it KEEPALIVE_TIMEOUT_MS later is gone, and its connection is cut.
 */
export class KeepAlive {
  private timer: NodeJS.Timeout;
  private awaiting = false;

  constructor(
    private readonly ping: () => void,
    private readonly cut: () => void,
  ) {
    this.timer = this.next();
  }

  acked(): void {
    this.awaiting = false;
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private next(): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.awaiting = true;
      this.ping();
      this.timer = setTimeout(() => {
        if (this.awaiting) this.cut();
        else this.timer = this.next();
      }, KEEPALIVE_TIMEOUT_MS);
      this.timer.unref();
    }, KEEPALIVE_TIME_MS);
    timer.unref();
    return timer;
  }
}
