import {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_INFLIGHT_BYTES,
  DEFAULT_MAX_VARIABLE_DIM,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './limits.js';

/**
 * What the server grants each client in time, connections and memory (issue #24 items 8-9).
 * Every field has a default in limits.ts; `ferry serve` sets them from its flags.
 */
export interface ServerLimits {
  /** Time to receive a request's headers (slowloris). */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request, body included (a trickled or half-sent body); gRPC: the request message. */
  readonly requestTimeoutMs: number;
  /** How long an idle HTTP keep-alive connection stays open. */
  readonly keepAliveTimeoutMs: number;
  /** Most open connections per front end (HTTP; gRPC separately); more are dropped on accept. */
  readonly maxConnections: number;
  /** Request body bytes all requests together may hold; over it: 503 + Retry-After before reading. */
  readonly maxInflightBytes: number;
  /** Bound for variable (-1) non-batch dimensions when deriving a model's body limit. */
  readonly maxVariableDim: number;
  /** How long shutdown lets running requests finish before cutting connections. */
  readonly drainTimeoutMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: DEFAULT_HEADERS_TIMEOUT_MS,
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
  keepAliveTimeoutMs: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  maxInflightBytes: DEFAULT_MAX_INFLIGHT_BYTES,
  maxVariableDim: DEFAULT_MAX_VARIABLE_DIM,
  drainTimeoutMs: DEFAULT_DRAIN_TIMEOUT_MS,
};

/** The given limits over the defaults; each must be a positive number. */
export function resolveServerLimits(given: Partial<ServerLimits> = {}): ServerLimits {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...given };
  for (const [name, value] of Object.entries(limits))
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
      throw new RangeError(`server limit ${name} must be a positive number (got ${String(value)})`);
  return limits;
}
