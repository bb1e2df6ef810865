import type { TensorMetadata } from '@ferry/serving-api';
import {
  BODY_HEADROOM_BYTES,
  JSON_BYTES_PER_ELEMENT,
  MAX_BODY_BYTES,
  MAX_JSON_BODY_BYTES,
} from '../limits.js';
import { DATATYPE_SIZE } from '@ferry/serving-api';

/** The largest request bodies one model version can need: what a well-formed request may send. */
export interface ModelBodyLimits {
  /** A plain JSON body (data as JSON numbers). */
  readonly json: number;
  /** A body with binary tensor data (Inference-Header-Content-Length): a JSON header plus raw bytes. */
  readonly binary: number;
}

/**
 * Derives a model's body limits from its inputs (issue #24: a 250 MB JSON body to a 4-input MLP
 * was buffered in full before the shape check refused it). Elements per input = max_batch_size x
 * the product of its other dimensions, a variable one counted as maxVariableDim; raw bytes are
 * elements x element size, JSON text elements x JSON_BYTES_PER_ELEMENT; both get
 * BODY_HEADROOM_BYTES for names and parameters. BYTES inputs have no size per element, so a
 * model with one gets the server-wide caps. JSON stays under MAX_JSON_BODY_BYTES (its parse runs
 * on the event loop) and everything under MAX_BODY_BYTES.
 */
export function modelBodyLimits(
  inputs: readonly TensorMetadata[],
  maxBatchSize: number,
  maxVariableDim: number,
): ModelBodyLimits {
  let elements = 0;
  let raw = 0;
  for (const input of inputs) {
    let count = 1;
    input.shape.forEach((dim, k) => {
      count *= k === 0 && maxBatchSize > 0 ? maxBatchSize : dim < 0 ? maxVariableDim : dim;
    });
    elements += count;
    raw += input.datatype === 'BYTES' ? Number.POSITIVE_INFINITY : count * DATATYPE_SIZE[input.datatype];
  }
  const json =
    raw === Number.POSITIVE_INFINITY
      ? MAX_JSON_BODY_BYTES
      : Math.min(MAX_JSON_BODY_BYTES, elements * JSON_BYTES_PER_ELEMENT + BODY_HEADROOM_BYTES);
  // the JSON header may itself carry some inputs as JSON data, so it is allowed the JSON limit
  const binary = Math.min(MAX_BODY_BYTES, json + raw);
  return { json, binary };
}
