/*
 * ModelInfer's work, whoever carried the call: @grpc/grpc-js (grpc.ts) or the direct HTTP/2 path
 * (grpc-direct-infer.ts). Both hand it the request as proto-loader's object (PROTO_OPTIONS) and
 * a cancel signal, and send back what it returns (or the gRPC status of what it throws).
 */
import { randomUUID } from 'node:crypto';
import type { Datatype, Tensor } from '@ferry/serving-api';
import { elementCount } from '@ferry/serving-api';
import { status } from '@grpc/grpc-js';
import { isServeError, type ServeError, serveError } from '../errors.js';
import type { ServedVersion } from '../repository/served-version.js';
import type { CancelSignal } from '../scheduler/cancellation.js';
import { decodeRawTensor, encodeRawTensor } from './binary-data.js';
import type { ServerContext } from './context.js';
import { countFailure, datatypeOf, type InputHeader, infer } from './inference.js';
import { decodeJsonTensor } from './json-data.js';
import {
  fieldError,
  grpcCountParameter,
  grpcShape,
  type ParameterValue,
  refuseClassification,
} from './request-rules.js';

export type GrpcParams = Record<string, { parameter_choice?: string; [key: string]: unknown }>;

/** ModelInferRequest.InferInputTensor as proto-loader gives it (shape as decimal strings or numbers). */
export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: readonly (string | number)[];
  parameters: GrpcParams;
  contents: Record<string, unknown[]> | null;
}

/** ModelInferRequest as proto-loader gives it (PROTO_OPTIONS: defaults, arrays, oneofs). */
export interface InferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: GrpcParams;
  inputs: InferInputTensor[];
  outputs: { name: string; parameters: GrpcParams }[];
  raw_input_contents: Uint8Array[];
}

/** ModelInferResponse as ModelInfer answers it: outputs always in raw_output_contents. */
export interface InferResponseMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, never>;
  outputs: { name: string; datatype: string; shape: readonly number[]; parameters: Record<string, never> }[];
  raw_output_contents: Uint8Array[];
}

/** HTTP status of a ServeError -> gRPC status code. */
export function grpcStatusOf(http: number): status {
  if (http === 400 || http === 413) return status.INVALID_ARGUMENT;
  if (http === 401) return status.UNAUTHENTICATED;
  if (http === 404) return status.NOT_FOUND;
  if (http === 503) return status.UNAVAILABLE;
  return status.INTERNAL;
}

/** The status a failed call ends with: a ServeError's own, anything else INTERNAL (and logged). */
export function grpcErrorOf(error: unknown, context: ServerContext): { code: number; details: string } {
  const serve: ServeError = isServeError(error)
    ? error
    : serveError('FERRY_SERVE_EXECUTION', { model: '?', version: '?', reason: (error as Error).message });
  if (!isServeError(error)) context.log.error({ err: error }, 'grpc internal error');
  return { code: grpcStatusOf(serve.http), details: serve.message };
}

/** Typed contents field per datatype (open_inference_grpc.proto InferTensorContents). FP16/BF16 have none. */
const CONTENTS_FIELD: Readonly<Partial<Record<Datatype, string>>> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

function paramValue(param: GrpcParams[string] | undefined): ParameterValue | undefined {
  return param?.parameter_choice ? (param[param.parameter_choice] as ParameterValue) : undefined;
}

/** True when an input carries any typed contents (an empty InferTensorContents carries none). */
function hasContents(input: InferInputTensor): boolean {
  if (input.contents === null) return false;
  return Object.values(input.contents ?? {}).some((list) => Array.isArray(list) && list.length > 0);
}

/** ModelInfer: refused while draining, the model resolved, the request checked, batched and answered. */
export function answerModelInfer(
  context: ServerContext,
  request: InferRequestMessage,
  signal: CancelSignal,
): Promise<InferResponseMessage> {
  // not async: an async function returning modelInfer's promise would adopt it in two more microtasks
  try {
    if (context.draining()) throw serveError('FERRY_SERVE_SHUTTING_DOWN');
    const served = context.repository.resolve(String(request.model_name), String(request.model_version));
    return modelInfer(served, request, signal, context);
  } catch (error) {
    return Promise.reject(error);
  }
}

async function modelInfer(
  served: ServedVersion,
  request: InferRequestMessage,
  signal: CancelSignal,
  context: ServerContext,
): Promise<InferResponseMessage> {
  // per-request log lines (and the id that ties them together) only when info is on
  const logging = context.log.isLevelEnabled('info');
  const reqId = logging ? randomUUID() : '';
  let parsed: ReturnType<typeof parseGrpcInfer>;
  try {
    parsed = parseGrpcInfer(served, request);
  } catch (error) {
    countFailure(context.metrics, served, error); // infer() counts the failures found after this
    throw error;
  }
  const { headers, outputs, decode, timeout } = parsed;
  const started = performance.now();
  try {
    const results = await infer(served, context.metrics, {
      headers,
      outputs,
      decode,
      ...(timeout !== undefined && { timeoutUs: timeout }),
      signal,
    });
    if (logging)
      context.log.info(
        {
          reqId,
          rpc: 'ModelInfer',
          model: served.model,
          version: served.version,
          ms: Number((performance.now() - started).toFixed(3)),
        },
        'request',
      );
    // outputs go back as raw_output_contents (what Triton does): exact for every datatype, FP16 included
    const encodeStart = performance.now();
    const raw = outputs.map((name) => encodeRawTensor(results.get(name)!));
    context.metrics.staged(
      served.model,
      served.version,
      'compute_output',
      (performance.now() - encodeStart) / 1000,
    );
    return {
      model_name: served.model,
      model_version: served.version,
      id: request.id,
      parameters: {},
      outputs: outputs.map((name) => {
        const tensor = results.get(name)!;
        return { name, datatype: tensor.datatype, shape: tensor.shape, parameters: {} };
      }),
      raw_output_contents: raw,
    };
  } catch (error) {
    if (logging)
      context.log.info(
        { reqId, rpc: 'ModelInfer', model: served.model, code: (error as ServeError).code },
        'request failed',
      );
    throw error;
  }
}

/** The request's inputs as headers and a decoder, checked for shape and raw-contents structure. */
function parseGrpcInfer(served: ServedVersion, request: InferRequestMessage) {
  const inputs = request.inputs;
  const raw = request.raw_input_contents;
  if (inputs.length === 0 && served.inputs.length > 0)
    throw serveError('FERRY_SERVE_BAD_REQUEST', { reason: 'inputs must not be empty' });
  if (raw.length > 0 && raw.length !== inputs.length)
    throw fieldError(
      'raw_input_contents',
      `has ${raw.length} entries for ${inputs.length} inputs (one per input, in order)`,
    );
  // open_inference_grpc.proto: "If this field [raw_input_contents] is specified then
  // InferInputTensor::contents must not be specified for any input tensor"
  if (raw.length > 0)
    inputs.forEach((input, i) => {
      if (hasContents(input))
        throw fieldError(`inputs[${i}].contents`, 'must be empty when raw_input_contents carries the data');
    });
  const headers: InputHeader[] = inputs.map((input, i) => ({
    name: input.name,
    datatype: input.datatype,
    shape: grpcShape(input.shape, `inputs[${i}].shape`),
  }));
  const requested = request.outputs;
  requested.forEach((o, i) => {
    refuseClassification(paramValue(o.parameters?.classification), `outputs[${i}].parameters.classification`);
  });
  const outputs = requested.length > 0 ? requested.map((o) => o.name) : served.outputs.map((o) => o.name);
  const timeout = grpcCountParameter(request.parameters.timeout, 'parameters.timeout');
  const decode = () => {
    const map = new Map<string, Tensor>();
    inputs.forEach((input, i) => {
      const header = headers[i]!;
      const datatype = datatypeOf(served, header.name);
      map.set(
        header.name,
        raw.length > 0
          ? decodeRawTensor(datatype, header.shape, raw[i]!, `${header.name} (raw_input_contents[${i}])`)
          : decodeContents(datatype, header, input, i),
      );
    });
    return map;
  };
  return { headers, outputs, decode, timeout };
}

function decodeContents(
  datatype: Datatype,
  header: InputHeader,
  input: InferInputTensor,
  index: number,
): Tensor {
  const field = CONTENTS_FIELD[datatype];
  if (!field)
    throw fieldError(
      `inputs[${index}].contents`,
      `${datatype} has no typed contents field; send input ${header.name} in raw_input_contents`,
    );
  const values = input.contents?.[field] ?? [];
  for (const [other, list] of Object.entries(input.contents ?? {}))
    if (other !== field && Array.isArray(list) && list.length > 0)
      throw fieldError(
        `inputs[${index}].contents.${other}`,
        `input ${header.name} is ${datatype}, whose data belongs in contents.${field}`,
      );
  if (datatype === 'BYTES') {
    if (values.length !== elementCount(header.shape))
      throw serveError('FERRY_SERVE_INPUT', {
        input: header.name,
        reason: `contents has ${values.length} elements but shape [${header.shape.join(', ')}] needs ${elementCount(header.shape)}`,
      });
    return { datatype, shape: header.shape, strings: values.map((v) => new Uint8Array(v as Buffer)) };
  }
  return decodeJsonTensor(
    datatype,
    header.shape,
    values,
    `${header.name} (inputs[${index}].contents.${field})`,
    'protobuf',
  );
}
