import { defineErrors, type ErrorParams, type ErrorSpec } from '@ferry/formats';

/**
 * Every error @ferry/convert raises for its own rules, in one table (defineErrors in
 * @ferry/formats makes its class, factory and guard). A source file that does not parse stays
 * formats' FerryError (FERRY_PICKLE_*, FERRY_SAVEDMODEL_*, and FERRY_SKLEARN_STATE / _UNSUPPORTED
 * and FERRY_XGBOOST_MODEL, which formats' inert estimator reader raises too); these are what a
 * converter cannot express or was given that does not fit. Every code is documented in
 * docs/errors.md under "@ferry/convert" (packages/cli/test/error-codes.test.ts checks both
 * directions).
 */
export type ConvertErrorSpec = ErrorSpec;

const bad = (message: string): ErrorSpec => ({ message, http: 400, permanent: true });

export const CONVERT_ERRORS = {
  // --- checkpoint -> safetensors ---
  FERRY_CONVERT_OPAQUE: bad('{path}: cannot convert {count} tensor(s) that are not dense data: {names}'),

  // --- ONNX weights ---
  FERRY_ONNX_REPLACE_UNKNOWN: bad('{path}: replacement tensor {tensor} is not an initializer of the model'),
  FERRY_ONNX_REPLACE_MISSING: bad('{path}: initializer {tensor} has no replacement tensor'),
  FERRY_ONNX_REPLACE_DUPLICATE: bad('{path}: replacement tensor {tensor} is given more than once'),
  FERRY_ONNX_REPLACE_DTYPE: bad('{path}: initializer {tensor} is {expected}, the replacement is {actual}'),
  FERRY_ONNX_REPLACE_SHAPE: bad(
    '{path}: initializer {tensor} has shape {expected}, the replacement has {actual}',
  ),

  // --- SavedModel -> ONNX ---
  FERRY_TF2ONNX_UNSUPPORTED_OP: bad('{path}: op {op} (node {node} in {fn}) has no ONNX conversion: {reason}'),
  FERRY_TF2ONNX_NODE: bad('{path}: node {node} ({op} in {fn}): {reason}'),
  FERRY_TF2ONNX_SIGNATURE: bad('{path}: {what}: {reason}'),
  FERRY_TF2ONNX_VARIABLE: bad('{path}: variable {node} (in {fn}): {reason}'),

  // --- scikit-learn -> ONNX ---
  FERRY_SKLEARN_NOT_ESTIMATOR: bad('{path}: the pickle holds {what}, not a fitted estimator'),
} as const satisfies Record<string, ErrorSpec>;

export type ConvertErrorCode = keyof typeof CONVERT_ERRORS;
export type ConvertErrorParams = ErrorParams;

// the codes kept the names they had in formats' table before the split, so several prefixes
const errors = defineErrors(
  ['FERRY_CONVERT_', 'FERRY_ONNX_REPLACE_', 'FERRY_TF2ONNX_', 'FERRY_SKLEARN_NOT_ESTIMATOR'],
  CONVERT_ERRORS,
  { name: 'ConvertError' },
);

/** The one error type this package throws: a FerryError whose code is in CONVERT_ERRORS. */
export const ConvertError = errors.ErrorClass;
export type ConvertError = InstanceType<typeof ConvertError>;
export const convertError = errors.create;
export const isConvertError = errors.is;
