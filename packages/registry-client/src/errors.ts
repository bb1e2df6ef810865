import { formatErrorMessage } from '@ferry/formats';

/**
 * Every error @ferry/registry raises, in one table (the fastify lib/errors.js pattern, like
 * @ferry/formats' table). The registry has its own table because it needs HTTP statuses a file
 * reader never does (401, 403, 429). Every code is documented in docs/errors.md (a test checks it).
 * The CLI prints any error whose `code` starts with FERRY_ as one line.
 */
export interface RegistryErrorSpec {
  readonly message: string;
  readonly http: number;
  readonly permanent: boolean;
}

const spec = (http: number, message: string, permanent = true): RegistryErrorSpec => ({
  message,
  http,
  permanent,
});

export const REGISTRY_ERRORS = {
  FERRY_REGISTRY_BAD_REQUEST: spec(400, '{what}: {reason}'),
  FERRY_REGISTRY_BAD_NAME: spec(400, '{what} {name}: {reason}'),
  FERRY_REGISTRY_BAD_PATH: spec(400, 'file path {path}: {reason}'),
  FERRY_REGISTRY_UNAUTHORIZED: spec(401, '{reason}'),
  FERRY_REGISTRY_FORBIDDEN: spec(403, '{actor} lacks the {scope} scope on {resource}'),
  FERRY_REGISTRY_NOT_FOUND: spec(404, '{what} {name} does not exist'),
  FERRY_REGISTRY_CONFLICT: spec(409, '{what} {name}: {reason}'),
  FERRY_REGISTRY_DIGEST_MISMATCH: spec(400, '{path}: content has sha256 {actual}, expected {expected}'),
  FERRY_REGISTRY_INCOMPLETE: spec(
    409,
    'version {name}/{version}: {count} file(s) not uploaded yet ({paths})',
  ),
  FERRY_REGISTRY_UNSAFE: spec(
    422,
    'version {name}/{version} is marked unsafe by the scan ({reason}); pass --force to use it',
  ),
  FERRY_REGISTRY_UNVERIFIED: spec(
    422,
    'version {name}/{version} was not shown safe by the scan ({verdict}: {reason}); pass --force to use it',
  ),
  FERRY_REGISTRY_RANGE: spec(416, '{what}: range {range} is not satisfiable for {size} bytes'),
  FERRY_REGISTRY_TOO_LARGE: spec(413, '{what} is {value} bytes, over the limit of {limit}'),
  FERRY_REGISTRY_RATE_LIMITED: spec(
    429,
    'too many failed authentications from {client}; retry in {seconds} s',
    false,
  ),
  FERRY_REGISTRY_BACKEND: spec(503, '{backend}: {reason}', false),
  FERRY_REGISTRY_HTTP: spec(500, '{method} {url}: HTTP {status}: {reason}', false),
} as const satisfies Record<string, RegistryErrorSpec>;

export type RegistryErrorCode = keyof typeof REGISTRY_ERRORS;
export type RegistryErrorParams = Record<string, string | number | bigint>;

export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly params: RegistryErrorParams;
  readonly http: number;
  readonly permanent: boolean;

  constructor(code: RegistryErrorCode, params: RegistryErrorParams = {}, options?: { cause?: unknown }) {
    super(formatErrorMessage(REGISTRY_ERRORS[code].message, params), options);
    this.name = 'RegistryError';
    this.code = code;
    this.params = params;
    this.http = REGISTRY_ERRORS[code].http;
    this.permanent = REGISTRY_ERRORS[code].permanent;
  }
}

export function registryError(
  code: RegistryErrorCode,
  params: RegistryErrorParams = {},
  cause?: unknown,
): RegistryError {
  return new RegistryError(code, params, cause === undefined ? undefined : { cause });
}

export function isRegistryError(value: unknown): value is RegistryError {
  return value instanceof RegistryError;
}

/** A RegistryError rebuilt from a server's error body on the client side, code and message kept. */
export class RemoteRegistryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly http: number,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}
