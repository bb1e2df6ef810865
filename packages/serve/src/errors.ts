import { formatErrorMessage } from '@ferry/formats';

/**
 * Every error @ferry/serve raises, in one table (the same pattern as @ferry/formats' errors.ts).
 * `http` is the status a REST client sees; gRPC maps it with grpcStatusOf() in protocol/grpc.ts.
 * Every code is documented in docs/errors.md under "@ferry/serve" (errors.test.ts checks it).
 */
export interface ServeErrorSpec {
  readonly message: string;
  readonly http: number;
  readonly permanent: boolean;
}

const bad = (message: string): ServeErrorSpec => ({ message, http: 400, permanent: true });
const busy = (message: string): ServeErrorSpec => ({ message, http: 503, permanent: false });

export const SERVE_ERRORS = {
  // --- repository and config ---
  FERRY_SERVE_CONFIG: bad('{path}: {field}: {reason}'),
  FERRY_SERVE_REPOSITORY: bad('{path}: {reason}'),
  FERRY_SERVE_LOAD: bad('{path}: cannot load model: {reason}'),
  FERRY_SERVE_CONTROL: bad('{reason}'),
  FERRY_SERVE_CACHE: bad('{path}: conversion cache: {reason}'),
  FERRY_SERVE_UNAUTHORIZED: { message: '{reason}', http: 401, permanent: true },

  // --- requests ---
  FERRY_SERVE_MODEL_NOT_FOUND: { message: 'unknown model {model}', http: 404, permanent: true },
  FERRY_SERVE_VERSION_NOT_FOUND: {
    message: 'model {model} has no version {version} being served ({reason})',
    http: 404,
    permanent: true,
  },
  FERRY_SERVE_BAD_REQUEST: bad('{reason}'),
  FERRY_SERVE_FIELD: bad('request field {field}: {reason}'),
  FERRY_SERVE_INPUT: bad('input {input}: {reason}'),
  FERRY_SERVE_OUTPUT: bad('output {output}: {reason}'),
  FERRY_SERVE_TOO_LARGE: {
    message: '{what} is {value}, over the limit of {limit}',
    http: 413,
    permanent: true,
  },

  // --- scheduling ---
  FERRY_SERVE_NOT_READY: busy('model {model} version {version} is not ready ({reason})'),
  FERRY_SERVE_OVERLOADED: busy('model {model} version {version}: queue is full ({limit} requests waiting)'),
  FERRY_SERVE_TIMEOUT: busy('model {model} version {version}: request timed out after {us} us in the queue'),
  FERRY_SERVE_CANCELLED: busy('model {model} version {version}: the client went away before execution'),
  FERRY_SERVE_SHUTTING_DOWN: busy('the server is shutting down and accepts no new requests'),
  FERRY_SERVE_BUSY: busy(
    'request bodies in flight would hold {value} bytes, over the server budget of {limit} (--max-inflight-bytes); retry later',
  ),
  FERRY_SERVE_EXECUTION: {
    message: 'model {model} version {version}: execution failed: {reason}',
    http: 500,
    permanent: false,
  },

  // --- bundle handlers ---
  FERRY_SERVE_HANDLER: { message: 'handler {module}: {reason}', http: 500, permanent: false },
} as const satisfies Record<string, ServeErrorSpec>;

export type ServeErrorCode = keyof typeof SERVE_ERRORS;
export type ServeErrorParams = Record<string, string | number | bigint>;

/** The one error type @ferry/serve throws; `http` is what a REST client sees. */
export class ServeError extends Error {
  readonly code: ServeErrorCode;
  readonly params: ServeErrorParams;
  readonly http: number;
  readonly permanent: boolean;

  constructor(code: ServeErrorCode, params: ServeErrorParams = {}, options?: { cause?: unknown }) {
    super(formatErrorMessage(SERVE_ERRORS[code].message, params), options);
    this.name = 'ServeError';
    this.code = code;
    this.params = params;
    this.http = SERVE_ERRORS[code].http;
    this.permanent = SERVE_ERRORS[code].permanent;
  }
}

export function serveError(code: ServeErrorCode, params: ServeErrorParams = {}, cause?: unknown): ServeError {
  return new ServeError(code, params, cause === undefined ? undefined : { cause });
}

export function isServeError(value: unknown): value is ServeError {
  return value instanceof ServeError;
}
