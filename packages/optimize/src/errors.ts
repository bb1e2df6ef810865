import { formatErrorMessage } from '@ferry/formats';

/**
 * Every error @ferry/optimize raises, in one table (the same pattern as @ferry/formats' errors.ts).
 * Bad input it reads through @ferry/formats (an ONNX file that does not decode) stays formats'
 * FerryError; these are the rules of the transforms themselves and of onnxruntime's checks.
 * Every code is documented in docs/errors.md under "@ferry/optimize" (errors.test.ts checks it).
 */
export interface OptimizeErrorSpec {
  readonly message: string;
  readonly http: number;
  readonly permanent: boolean;
}

const bad = (message: string): OptimizeErrorSpec => ({ message, http: 400, permanent: true });

export const OPTIMIZE_ERRORS = {
  FERRY_QUANTIZE_ALREADY: bad('{path}: model is already quantized: node {node} is {op}'),
  FERRY_QUANTIZE_OPSET: bad(
    '{path}: {what} needs ai.onnx opset {needed} or later, the model imports {opset}',
  ),
  FERRY_FP16_ALREADY: bad('{path}: model is already float16 ({reason})'),
  FERRY_OPTIMIZE_RUNTIME: bad('{path}: onnxruntime cannot {what}: {reason}'),
  FERRY_OPTIMIZE_CHECK: bad('{path}: the {what} model fails the structural check: {rule}: {message}'),
  FERRY_OPTIMIZE_DATA: bad('{path}: {what}: {rule}'),
} as const satisfies Record<string, OptimizeErrorSpec>;

export type OptimizeErrorCode = keyof typeof OPTIMIZE_ERRORS;
export type OptimizeErrorParams = Record<string, string | number | bigint>;

/** The one error type @ferry/optimize throws for its own rules. */
export class OptimizeError extends Error {
  readonly code: OptimizeErrorCode;
  readonly params: OptimizeErrorParams;
  readonly http: number;
  readonly permanent: boolean;

  constructor(code: OptimizeErrorCode, params: OptimizeErrorParams = {}, options?: { cause?: unknown }) {
    super(formatErrorMessage(OPTIMIZE_ERRORS[code].message, params), options);
    this.name = 'OptimizeError';
    this.code = code;
    this.params = params;
    this.http = OPTIMIZE_ERRORS[code].http;
    this.permanent = OPTIMIZE_ERRORS[code].permanent;
  }
}

export function optimizeError(
  code: OptimizeErrorCode,
  params: OptimizeErrorParams = {},
  cause?: unknown,
): OptimizeError {
  return new OptimizeError(code, params, cause === undefined ? undefined : { cause });
}

export function isOptimizeError(value: unknown): value is OptimizeError {
  return value instanceof OptimizeError;
}
