import { defineErrors, type ErrorParams, type ErrorSpec } from '@ferry/formats';

/**
 * Every error @ferry/serve raises, in one table (defineErrors in @ferry/formats makes its class,
 * factory and guard). `http` is the status a REST client sees; gRPC maps it with grpcStatusOf() in
 * protocol/grpc-infer.ts. Every code is documented in docs/errors.md under "@ferry/serve"
 * (packages/cli/test/error-codes.test.ts checks both directions).
 */
export type ServeErrorSpec = ErrorSpec;

const bad = (message: string): ErrorSpec => ({ message, http: 400, permanent: true });
const busy = (message: string): ErrorSpec => ({ message, http: 503, permanent: false });

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
} as const satisfies Record<string, ErrorSpec>;

export type ServeErrorCode = keyof typeof SERVE_ERRORS;
export type ServeErrorParams = ErrorParams;

const errors = defineErrors('FERRY_SERVE_', SERVE_ERRORS, { name: 'ServeError' });

/** The one error type this package throws: a FerryError whose code is in SERVE_ERRORS. */
export const ServeError = errors.ErrorClass;
export type ServeError = InstanceType<typeof ServeError>;
export const serveError = errors.create;
export const isServeError = errors.is;
