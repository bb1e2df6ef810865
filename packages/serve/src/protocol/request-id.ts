import { randomUUID } from 'node:crypto';

/** A request id a client may pass in X-Request-Id, if it is short and printable; else a fresh one. */
export function requestId(req: { headers: Record<string, unknown> }): string {
  return requestIdOf(req.headers['x-request-id']);
}

/** requestId from the X-Request-Id header's value alone. */
export function requestIdOf(given: unknown): string {
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}
