import { defineErrors, type ErrorParams, type ErrorSpec, FerryError } from '@ferry/formats';

/**
 * Every error @ferry/registry raises, in one table (the fastify lib/errors.js pattern, like
 * @ferry/formats' table). The registry has its own table because it needs HTTP statuses a file
 * reader never does (401, 403, 429). Every code is documented in docs/errors.md
 * (packages/cli/test/error-codes.test.ts checks both directions). The CLI prints any FerryError
 * (isFerryError) as one line.
 */
export type RegistryErrorSpec = ErrorSpec;

const spec = (http: number, message: string, permanent = true): ErrorSpec => ({
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
  FERRY_REGISTRY_CHUNKS_MISSING: spec(
    409,
    'file sha256:{file}: {count} chunk(s) are not stored ({chunks}); upload them and commit the file again',
  ),
  FERRY_REGISTRY_CHUNK_BUSY: spec(
    409,
    'chunk sha256:{chunk} is being garbage-collected; upload it again',
    false,
  ),
  FERRY_REGISTRY_UNSAFE: spec(
    422,
    'version {name}/{version} is marked unsafe by the scan ({reason}); pass --allow-unsafe (ferry pull; ?force=true over HTTP) to use it',
  ),
  FERRY_REGISTRY_UNVERIFIED: spec(
    422,
    'version {name}/{version} was not shown safe by the scan ({verdict}: {reason}); pass --allow-unsafe (ferry pull; ?force=true over HTTP) to use it',
  ),
  FERRY_REGISTRY_RANGE: spec(416, '{what}: range {range} is not satisfiable for {size} bytes'),
  FERRY_REGISTRY_TOO_LARGE: spec(413, '{what} is {value} bytes, over the limit of {limit}'),
  FERRY_REGISTRY_RATE_LIMITED: spec(
    429,
    'too many failed authentications from {client}; retry in {seconds} s',
    false,
  ),
  FERRY_REGISTRY_BACKEND: spec(503, '{backend}: {reason}', false),
  // `ferry alias set --wait`: the servers following the alias did not all switch (a client-side wait)
  FERRY_REGISTRY_ROLLOUT: spec(504, 'models:/{model}@{alias} -> version {version}: {reason}', false),
  FERRY_REGISTRY_HTTP: spec(500, '{method} {url}: HTTP {status}: {reason}', false),
} as const satisfies Record<string, ErrorSpec>;

export type RegistryErrorCode = keyof typeof REGISTRY_ERRORS;
export type RegistryErrorParams = ErrorParams;

const errors = defineErrors('FERRY_REGISTRY_', REGISTRY_ERRORS, { name: 'RegistryError' });

/** The one error type this package throws: a FerryError whose code is in REGISTRY_ERRORS. */
export const RegistryError = errors.ErrorClass;
export type RegistryError = InstanceType<typeof RegistryError>;
export const registryError = errors.create;
export const isRegistryError = errors.is;

/**
 * A registry error rebuilt from a server's error body on the client side: a FerryError whose code
 * and message are the server's (any FERRY_* code the server sent, not only this table's), so
 * `isFerryError` holds for it and the CLI prints it as one line. Permanence comes from the table
 * where the code is known, else from the status (4xx but 408/429 permanent).
 */
export class RemoteRegistryError extends FerryError {
  constructor(code: string, message: string, http: number) {
    const known = (REGISTRY_ERRORS as Record<string, ErrorSpec>)[code];
    super({
      code,
      message,
      http,
      permanent: known?.permanent ?? (http < 500 && http !== 408 && http !== 429),
    });
    this.name = 'RegistryError';
  }
}
