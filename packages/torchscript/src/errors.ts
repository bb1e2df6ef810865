import { formatErrorMessage } from '@ferry/formats';

/**
 * Every error @ferry/torchscript raises, in one table (the same pattern as @ferry/formats' and
 * @ferry/serve's errors.ts). `http` is the status a server maps it to; `statusCode` mirrors it
 * for fastify's default error handler. Every code is documented in docs/errors.md under
 * "@ferry/torchscript" (errors.test.ts checks it).
 */
export interface TorchScriptErrorSpec {
  readonly message: string;
  readonly http: number;
  readonly permanent: boolean;
}

const bad = (message: string): TorchScriptErrorSpec => ({ message, http: 400, permanent: true });

export const TORCHSCRIPT_ERRORS = {
  FERRY_TORCHSCRIPT_UNAVAILABLE: {
    message:
      'the TorchScript backend is not available ({reason}); install libtorch-dev (`sudo scripts/install-system-deps.sh`) and rebuild (`npm run build:torchscript`)',
    http: 503,
    permanent: true,
  },
  FERRY_TORCHSCRIPT_ARCHIVE: bad('{path}: not a TorchScript archive: {reason}'),
  FERRY_TORCHSCRIPT_UNSAFE: bad('{path}: refused before loading: {reason}'),
  FERRY_TORCHSCRIPT_LOAD: bad('{path}: cannot load the TorchScript module: {reason}'),
  FERRY_TORCHSCRIPT_CONFIG: bad('{path}: {field}: {reason}'),
  FERRY_TORCHSCRIPT_INPUT: bad('input {input}: {reason}'),
  FERRY_TORCHSCRIPT_FORWARD: { message: '{path}: forward failed: {reason}', http: 500, permanent: false },
  FERRY_TORCHSCRIPT_OUTPUT: { message: '{path}: output {output}: {reason}', http: 500, permanent: true },
} as const satisfies Record<string, TorchScriptErrorSpec>;

export type TorchScriptErrorCode = keyof typeof TORCHSCRIPT_ERRORS;
export type TorchScriptErrorParams = Record<string, string | number | bigint>;

/** The one error type @ferry/torchscript throws; its message is always one line. */
export class TorchScriptError extends Error {
  readonly code: TorchScriptErrorCode;
  readonly params: TorchScriptErrorParams;
  readonly http: number;
  readonly permanent: boolean;

  constructor(
    code: TorchScriptErrorCode,
    params: TorchScriptErrorParams = {},
    options?: { cause?: unknown },
  ) {
    // one line per error: libtorch's multi-line messages keep their first line
    const firstLines = Object.fromEntries(
      Object.entries(params).map(([key, value]) => [key, String(value).split('\n')[0]!]),
    );
    super(formatErrorMessage(TORCHSCRIPT_ERRORS[code].message, firstLines), options);
    this.name = 'TorchScriptError';
    this.code = code;
    this.params = params;
    this.http = TORCHSCRIPT_ERRORS[code].http;
    this.permanent = TORCHSCRIPT_ERRORS[code].permanent;
  }

  /** fastify answers an error carrying statusCode with that status and its message. */
  get statusCode(): number {
    return this.http;
  }
}

export function torchscriptError(
  code: TorchScriptErrorCode,
  params: TorchScriptErrorParams = {},
  cause?: unknown,
): TorchScriptError {
  return new TorchScriptError(code, params, cause === undefined ? undefined : { cause });
}

export function isTorchScriptError(value: unknown): value is TorchScriptError {
  return value instanceof TorchScriptError;
}
