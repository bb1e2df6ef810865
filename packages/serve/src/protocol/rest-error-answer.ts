import { isServeError, type ServeError } from '../errors.js';
import type { ServerContext } from './context.js';

/**
 * The error answer fastify's error handler (rest.ts) gives, for the paths that answer in front of
 * it (rest-fast-infer.ts, lean-http-transport.ts): {error} JSON, a log line from 500 on.
 */
export function restErrorAnswer(
  context: ServerContext,
  id: string,
  error: unknown,
): { status: number; body: Buffer } {
  let status: number;
  let message: string;
  if (isServeError(error)) {
    status = (error as ServeError).http;
    message = error.message;
    if (status >= 500) context.log.warn({ reqId: id, code: error.code }, message);
  } else {
    status = 500;
    message = 'internal error';
    context.log.error({ reqId: id, err: error }, 'internal error');
  }
  return { status, body: Buffer.from(JSON.stringify({ error: message })) };
}

/** The request log line fastify's onResponse hook (rest.ts) writes. */
export function logRequestLine(
  context: ServerContext,
  id: string,
  method: string | undefined,
  url: string | undefined,
  status: number,
  started: number,
): void {
  if (context.log.isLevelEnabled('info'))
    context.log.info(
      { reqId: id, method, url, status, ms: Number((performance.now() - started).toFixed(3)) },
      'request',
    );
}
