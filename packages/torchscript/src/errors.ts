import { defineErrors, type ErrorParams, type ErrorSpec } from '@ferry/formats';

/**
 * Every error @ferry/torchscript raises, in one table (defineErrors in @ferry/formats makes its
 * class, factory and guard). `http` is the status a server maps it to; `statusCode` mirrors it for
 * fastify's default error handler. Every code is documented in docs/errors.md under
 * "@ferry/torchscript" (packages/cli/test/error-codes.test.ts checks both directions).
 */
export type TorchScriptErrorSpec = ErrorSpec;

const bad = (message: string): ErrorSpec => ({ message, http: 400, permanent: true });

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
} as const satisfies Record<string, ErrorSpec>;

export type TorchScriptErrorCode = keyof typeof TORCHSCRIPT_ERRORS;
export type TorchScriptErrorParams = ErrorParams;

const errors = defineErrors('FERRY_TORCHSCRIPT_', TORCHSCRIPT_ERRORS, {
  name: 'TorchScriptError',
  oneLineParams: true,
  statusCode: true,
});

/** The one error type this package throws: a FerryError whose code is in TORCHSCRIPT_ERRORS. */
export const TorchScriptError = errors.ErrorClass;
export type TorchScriptError = InstanceType<typeof TorchScriptError>;
export const torchscriptError = errors.create;
export const isTorchScriptError = errors.is;
