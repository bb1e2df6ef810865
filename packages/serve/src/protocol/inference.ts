import { isServeError, serveError } from '../errors.js';
import { MAX_TENSORS_PER_REQUEST } from '../limits.js';
import type { ServeMetrics } from '../metrics.js';
import type { ServedVersion } from '../repository/served-version.js';
import type { CancelSignal } from '../scheduler/cancellation.js';
import type { Datatype } from '@ferry/serving-api';
import type { Tensor } from '@ferry/serving-api';

/** What both protocols know about an input before its data is decoded. */
export interface InputHeader {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * Checks a request's inputs against the model's metadata before any data is decoded or anything
 * runs: known names, none missing or repeated, datatype, rank, fixed dimensions, and the batch
 * dimension (equal across inputs, 1..max_batch_size). Returns the batch size (1 without batching).
 */
export function checkInputs(served: ServedVersion, headers: readonly InputHeader[]): number {
  if (headers.length > MAX_TENSORS_PER_REQUEST)
    throw serveError('FERRY_SERVE_BAD_REQUEST', {
      reason: `${headers.length} inputs, over the limit of ${MAX_TENSORS_PER_REQUEST}`,
    });
  // a request's checks run on every request: nothing below allocates unless it throws
  const seen = headers.length > 1 ? new Set<string>() : undefined;
  let rows: number | undefined;
  for (const header of headers) {
    const meta = served.inputs.find((m) => m.name === header.name);
    if (!meta)
      throw serveError('FERRY_SERVE_INPUT', {
        input: header.name,
        reason: `model ${served.model} has no such input (it takes ${served.inputs.map((m) => m.name).join(', ')})`,
      });
    if (seen?.has(header.name))
      throw serveError('FERRY_SERVE_INPUT', { input: header.name, reason: 'given twice' });
    seen?.add(header.name);
    if (header.datatype !== meta.datatype)
      throw serveError('FERRY_SERVE_INPUT', {
        input: header.name,
        reason: `datatype is ${header.datatype} but the model expects ${meta.datatype}`,
      });
    const shape = header.shape;
    // unknown rank (a SavedModel's unknown_rank, an ONNX input without a shape): any shape
    if (meta.anyRank) continue;
    if (shape.length !== meta.shape.length)
      throw serveError('FERRY_SERVE_INPUT', {
        input: header.name,
        reason: `shape [${shape.join(', ')}] has rank ${shape.length} but the model expects ${shapeText(meta.shape)}`,
      });
    for (let k = 0; k < meta.shape.length; k++) {
      const dim = meta.shape[k]!;
      if (dim !== -1 && shape[k] !== dim)
        throw serveError('FERRY_SERVE_INPUT', {
          input: header.name,
          reason: `shape [${shape.join(', ')}] dimension ${k} is ${shape[k]} but the model expects ${shapeText(meta.shape)}`,
        });
    }
    if (served.maxBatchSize > 0) {
      const batch = shape[0]!;
      if (batch < 1 || batch > served.maxBatchSize)
        throw serveError('FERRY_SERVE_INPUT', {
          input: header.name,
          reason: `batch size ${batch} is outside 1..${served.maxBatchSize} (max_batch_size)`,
        });
      if (rows !== undefined && batch !== rows)
        throw serveError('FERRY_SERVE_INPUT', {
          input: header.name,
          reason: `batch size ${batch} differs from the other inputs' ${rows}`,
        });
      rows = batch;
    }
  }
  const given = (name: string) => (seen ? seen.has(name) : headers[0]?.name === name);
  if (!served.inputs.every((m) => given(m.name))) {
    const missing = served.inputs.filter((m) => !given(m.name)).map((m) => m.name);
    throw serveError('FERRY_SERVE_INPUT', {
      input: missing[0]!,
      reason: `missing (model ${served.model} needs ${missing.join(', ')})`,
    });
  }
  return rows ?? 1;
}

/** Requested output names: each must exist and appear once. */
export function checkOutputs(served: ServedVersion, names: readonly string[]): void {
  if (names.length > MAX_TENSORS_PER_REQUEST)
    throw serveError('FERRY_SERVE_BAD_REQUEST', {
      reason: `${names.length} outputs requested, over the limit of ${MAX_TENSORS_PER_REQUEST}`,
    });
  const seen = names.length > 1 ? new Set<string>() : undefined;
  for (const name of names) {
    if (!served.outputs.some((o) => o.name === name))
      throw serveError('FERRY_SERVE_OUTPUT', {
        output: name,
        reason: `model ${served.model} has no such output (it gives ${served.outputs.map((o) => o.name).join(', ')})`,
      });
    if (seen?.has(name)) throw serveError('FERRY_SERVE_OUTPUT', { output: name, reason: 'requested twice' });
    seen?.add(name);
  }
}

export function datatypeOf(served: ServedVersion, input: string): Datatype {
  return served.inputs.find((m) => m.name === input)!.datatype;
}

/**
 * Runs a validated request through the model version's batcher and counts the outcome.
 * `decode` turns the request's data into tensors after the metadata checks passed.
 */
export async function infer(
  served: ServedVersion,
  metrics: ServeMetrics,
  work: {
    readonly headers: readonly InputHeader[];
    readonly outputs: readonly string[];
    readonly decode: () => Map<string, Tensor>;
    readonly timeoutUs?: number;
    readonly signal?: CancelSignal;
  },
): Promise<Map<string, Tensor>> {
  const started = performance.now();
  try {
    const rows = checkInputs(served, work.headers);
    checkOutputs(served, work.outputs);
    const decodeStart = performance.now();
    const inputs = work.decode();
    metrics.staged(served.model, served.version, 'compute_input', (performance.now() - decodeStart) / 1000);
    for (const [name, tensor] of inputs) served.checkTensor(name, tensor);
    const results = await served.batcher.submit({
      inputs,
      rows,
      ...(work.timeoutUs !== undefined && { timeoutUs: work.timeoutUs }),
      ...(work.signal && { signal: work.signal }),
    });
    metrics.succeeded(served.model, served.version, (performance.now() - started) / 1000);
    return results;
  } catch (error) {
    countFailure(metrics, served, error, (performance.now() - started) / 1000);
    throw error;
  }
}

/** Counts a failed request of a served model by its error code (parse failures included). */
export function countFailure(
  metrics: ServeMetrics,
  served: ServedVersion,
  error: unknown,
  seconds = 0,
): void {
  metrics.failed(
    served.model,
    served.version,
    isServeError(error) ? error.code : 'FERRY_SERVE_EXECUTION',
    seconds,
  );
}
