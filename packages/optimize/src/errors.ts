import { defineErrors, type ErrorParams, type ErrorSpec } from '@ferry/formats';

/**
 * Every error @ferry/optimize raises, in one table (defineErrors in @ferry/formats makes its
 * class, factory and guard). Bad input it reads through @ferry/formats (an ONNX file that does not
 * decode) stays formats' FerryError; these are the rules of the transforms themselves and of
 * onnxruntime's checks. Every code is documented in docs/errors.md under "@ferry/optimize"
 * (packages/cli/test/error-codes.test.ts checks both directions).
 */
export type OptimizeErrorSpec = ErrorSpec;

const bad = (message: string): ErrorSpec => ({ message, http: 400, permanent: true });

export const OPTIMIZE_ERRORS = {
  FERRY_QUANTIZE_ALREADY: bad('{path}: model is already quantized: node {node} is {op}'),
  FERRY_QUANTIZE_OPSET: bad(
    '{path}: {what} needs ai.onnx opset {needed} or later, the model imports {opset}',
  ),
  FERRY_FP16_ALREADY: bad('{path}: model is already float16 ({reason})'),
  FERRY_OPTIMIZE_RUNTIME: bad('{path}: onnxruntime cannot {what}: {reason}'),
  FERRY_OPTIMIZE_CHECK: bad('{path}: the {what} model fails the structural check: {rule}: {message}'),
  FERRY_OPTIMIZE_DATA: bad('{path}: {what}: {rule}'),
} as const satisfies Record<string, ErrorSpec>;

export type OptimizeErrorCode = keyof typeof OPTIMIZE_ERRORS;
export type OptimizeErrorParams = ErrorParams;

// the codes kept the names they had in formats' table before the split, so several prefixes
const errors = defineErrors(['FERRY_OPTIMIZE_', 'FERRY_QUANTIZE_', 'FERRY_FP16_'], OPTIMIZE_ERRORS, {
  name: 'OptimizeError',
});

/** The one error type this package throws: a FerryError whose code is in OPTIMIZE_ERRORS. */
export const OptimizeError = errors.ErrorClass;
export type OptimizeError = InstanceType<typeof OptimizeError>;
export const optimizeError = errors.create;
export const isOptimizeError = errors.is;
