import { type ServeError, serveError } from '../errors.js';
import { MAX_RANK, MAX_TENSOR_ELEMENTS } from '../limits.js';

/**
 * The Open Inference Protocol's type rules for request fields, in one place for the REST JSON,
 * REST binary and gRPC front ends (inference_rest.md "Inference Request JSON Object",
 * "Parameters"; open_inference_grpc.proto ModelInferRequest). Each refusal names the field by its
 * path in the request (`inputs[0].shape[0]`) and the rule it breaks. Lenient parsing here let
 * `["1",4]` through as a shape and `"yes"` through as false (issue #24.10).
 */

export type Json = Record<string, unknown>;
export type ParameterValue = string | number | boolean;

export const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export function fieldError(field: string, reason: string): ServeError {
  return serveError('FERRY_SERVE_FIELD', { field, reason });
}

/** A value as short JSON text for a message (a client's value is echoed, bounded). */
export function shown(value: unknown): string {
  const text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** `parameters.name`, or `parameters["odd name"]` where the key is not a plain identifier. */
export function keyPath(field: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${field}.${key}` : `${field}[${JSON.stringify(key)}]`;
}

/** Rank and element count bounds shared by both protocols' shapes. */
function boundShape(shape: number[], field: string): number[] {
  let count = 1;
  for (const dim of shape) count *= dim;
  if (count > MAX_TENSOR_ELEMENTS)
    throw fieldError(
      field,
      `[${shape.join(', ')}] has ${count} elements, over the limit of ${MAX_TENSOR_ELEMENTS} (CWE-190)`,
    );
  return shape;
}

function boundRank(length: number, field: string): void {
  if (length > MAX_RANK) throw fieldError(field, `rank ${length} is over the limit of ${MAX_RANK}`);
}

/**
 * A REST shape: an array of JSON integers >= 0 ("$shape = [ $number, ... ]"). A string, even
 * "1", is refused: the spec has no string form, and taking it hid clients' encoding bugs.
 */
export function jsonShape(value: unknown, field: string): number[] {
  if (!Array.isArray(value)) throw fieldError(field, `is ${shown(value)}; it must be an array of integers`);
  boundRank(value.length, field);
  const shape = value.map((dim, k) => {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0)
      throw fieldError(
        `${field}[${k}]`,
        `is ${shown(dim)}; a dimension must be a JSON integer from 0 to 2^53-1`,
      );
    return dim;
  });
  return boundShape(shape, field);
}

/**
 * A gRPC shape: `repeated int64`, which the proto loader hands over as decimal text
 * (PROTO_OPTIONS longs: String) so that no value is rounded before this range check.
 */
export function grpcShape(value: readonly (string | number)[], field: string): number[] {
  boundRank(value.length, field);
  const shape = value.map((dim, k) => {
    // the hand-written reader (grpc-infer-codec.ts) gives numbers it has range-checked already
    if (typeof dim === 'number' && Number.isSafeInteger(dim) && dim >= 0) return dim;
    const text = String(dim);
    if (text.startsWith('-')) throw fieldError(`${field}[${k}]`, `is ${text}; a dimension must be >= 0`);
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n))
      throw fieldError(`${field}[${k}]`, `is ${text}, over 2^53-1`);
    return n;
  });
  return boundShape(shape, field);
}

/** A REST `parameters` object: each value a string, number or boolean (inference_rest.md "Parameters"). */
export function jsonParameters(value: unknown, field: string): Record<string, ParameterValue> {
  if (value === undefined) return {};
  if (!isObject(value)) throw fieldError(field, `is ${shown(value)}; it must be an object`);
  for (const [key, v] of Object.entries(value))
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      throw fieldError(
        keyPath(field, key),
        `is ${shown(v)}; a parameter must be a string, number or boolean`,
      );
  return value as Record<string, ParameterValue>;
}

/** A boolean parameter (binary_data, binary_data_output): true or false, nothing else. */
export function booleanParameter(value: ParameterValue | undefined, field: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw fieldError(field, `is ${shown(value)}; it must be true or false`);
}

/** A REST count parameter (timeout in µs, binary_data_size in bytes): an integer from 0 to 2^53-1. */
export function countParameter(value: ParameterValue | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw fieldError(field, `is ${shown(value)}; it must be an integer from 0 to 2^53-1`);
  return value;
}

/** A gRPC InferParameter as the proto loader gives it (oneofs: true names the field set). */
export interface GrpcParameter {
  readonly parameter_choice?: string;
  readonly [choice: string]: unknown;
}

/**
 * A gRPC count parameter: int64_param or uint64_param (decimal text, longs: String) from 0 to
 * 2^53-1; a string_param of digits is refused as REST refuses "100".
 */
export function grpcCountParameter(param: GrpcParameter | undefined, field: string): number | undefined {
  const choice = param?.parameter_choice;
  if (!choice) return undefined;
  const value = param[choice];
  const text = String(value);
  if (
    (choice !== 'int64_param' && choice !== 'uint64_param') ||
    !/^\d+$/.test(text) ||
    !Number.isSafeInteger(Number(text))
  )
    throw fieldError(
      field,
      `is ${shown(value)} (${choice}); it must be an int64_param or uint64_param from 0 to 2^53-1`,
    );
  return Number(text);
}

/** Triton's classification extension (outputs' `classification` parameter) is not served: refused, not ignored. */
export function refuseClassification(value: ParameterValue | undefined, field: string): void {
  if (value !== undefined)
    throw fieldError(
      field,
      'the classification extension is not supported (leave it out for the raw output)',
    );
}
