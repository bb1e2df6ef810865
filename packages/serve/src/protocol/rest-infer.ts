import { serveError } from '../errors.js';
import { MAX_JSON_HEADER_BYTES, MAX_TENSORS_PER_REQUEST } from '../limits.js';
import type { ServedVersion } from '../repository/served-version.js';
import type { Tensor } from '@ferry/serving-api';
import { decodeRawTensor, encodeRawTensor } from './binary-data.js';
import { datatypeOf, type InputHeader } from './inference.js';
import { decodeJsonTensor, encodeJsonData } from './json-data.js';
import {
  booleanParameter,
  countParameter,
  fieldError,
  isObject,
  type Json,
  jsonParameters,
  jsonShape,
  type ParameterValue,
  refuseClassification,
  shown,
} from './request-rules.js';

/** A REST inference request, parsed far enough to check against the model before decoding data. */
export interface RestInferRequest
  extends Pick<RestJsonHeader, 'id' | 'headers' | 'outputs' | 'binaryOutputs' | 'timeoutUs'> {
  decode(): Map<string, Tensor>;
}

/**
 * Everything a request's JSON (the whole body, or the header before binary data) says, checked:
 * what parseRestInfer derives before it looks at any binary data. Depends only on the JSON and the
 * served version, so one parse serves every request whose header bytes are the same
 * (rest-header-cache.ts); nothing downstream mutates it.
 */
export interface RestJsonHeader {
  readonly id: string | undefined;
  readonly headers: readonly InputHeader[];
  /** Output names to return, in order (all of the model's when the request names none). */
  readonly outputs: readonly string[];
  /** Which outputs go back as binary data. */
  readonly binaryOutputs: ReadonlySet<string>;
  readonly timeoutUs: number | undefined;
  /** The JSON inputs (their "data" where they carry it) and each one's binary_data_size. */
  readonly inputs: readonly Json[];
  readonly sizes: readonly (number | undefined)[];
}

/**
 * Splits a body at Inference-Header-Content-Length: the JSON bytes and the binary data after them
 * (all of it JSON and no binary data without that header).
 */
export function splitRestBody(
  body: Uint8Array,
  headerLength: string | undefined,
): { json: Uint8Array; tail: Uint8Array } {
  if (headerLength === undefined) return { json: body, tail: NO_BYTES };
  const n = /^\d{1,12}$/.test(headerLength) ? Number(headerLength) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > body.byteLength)
    throw serveError('FERRY_SERVE_BAD_REQUEST', {
      reason: `Inference-Header-Content-Length ${JSON.stringify(headerLength)} must be an integer no larger than the body (${body.byteLength} bytes)`,
    });
  if (n > MAX_JSON_HEADER_BYTES)
    throw serveError('FERRY_SERVE_TOO_LARGE', {
      what: 'the JSON header',
      value: n,
      limit: MAX_JSON_HEADER_BYTES,
    });
  return { json: body.subarray(0, n), tail: body.subarray(n) };
}

const NO_BYTES = new Uint8Array(0);

/**
 * Parses a request body: plain JSON, or (with Inference-Header-Content-Length) a JSON header
 * followed by the inputs' binary data in input order, each sized by `binary_data_size`
 * (Triton's binary tensor data extension). `parsedJson`: that JSON already parsed (a large one,
 * by rest-json.ts off the hot path).
 */
export function parseRestInfer(
  body: Uint8Array,
  headerLength: string | undefined,
  served: ServedVersion,
  parsedJson?: unknown,
): RestInferRequest {
  const { json, tail } = splitRestBody(body, headerLength);
  return restInferRequest(parseRestJson(json, served, parsedJson), tail, served);
}

/** Parses and checks a request's JSON bytes (or takes `parsedJson`, those bytes already parsed). */
export function parseRestJson(
  jsonBytes: Uint8Array,
  served: ServedVersion,
  parsedJson?: unknown,
): RestJsonHeader {
  let doc: unknown = parsedJson;
  try {
    doc ??= JSON.parse(
      Buffer.from(jsonBytes.buffer, jsonBytes.byteOffset, jsonBytes.byteLength).toString('utf8'),
    );
  } catch (error) {
    throw serveError('FERRY_SERVE_BAD_REQUEST', {
      reason: `the body is not valid JSON: ${(error as Error).message}`,
    });
  }
  if (!isObject(doc))
    throw serveError('FERRY_SERVE_BAD_REQUEST', { reason: 'the body must be a JSON object' });
  if (doc.id !== undefined && typeof doc.id !== 'string')
    throw fieldError('id', `is ${shown(doc.id)}; it must be a string`);
  const parameters = jsonParameters(doc.parameters, 'parameters');
  const inputs = doc.inputs;
  // a model with no inputs (a SavedModel signature reading a variable) takes an empty list
  if (!Array.isArray(inputs) || (inputs.length === 0 && served.inputs.length > 0))
    throw serveError('FERRY_SERVE_BAD_REQUEST', { reason: '"inputs" must be a non-empty array' });
  if (inputs.length > MAX_TENSORS_PER_REQUEST)
    throw serveError('FERRY_SERVE_BAD_REQUEST', {
      reason: `${inputs.length} inputs, over the limit of ${MAX_TENSORS_PER_REQUEST}`,
    });
  const inputParameters: Record<string, ParameterValue>[] = [];
  const headers: InputHeader[] = inputs.map((input, i) => {
    if (!isObject(input) || typeof input.name !== 'string')
      throw serveError('FERRY_SERVE_BAD_REQUEST', {
        reason: `inputs[${i}] must be an object with a string "name"`,
      });
    if (typeof input.datatype !== 'string')
      throw fieldError(`inputs[${i}].datatype`, `is ${shown(input.datatype)}; it must be a string`);
    const params = jsonParameters(input.parameters, `inputs[${i}].parameters`);
    inputParameters.push(params);
    return {
      name: input.name,
      datatype: input.datatype,
      shape: jsonShape(input.shape, `inputs[${i}].shape`),
    };
  });

  const requested = doc.outputs;
  let outputs: string[];
  const binaryOutputs = new Set<string>();
  const binaryDefault =
    booleanParameter(parameters.binary_data_output, 'parameters.binary_data_output') ?? false;
  if (requested === undefined) {
    outputs = served.outputs.map((o) => o.name);
    if (binaryDefault) for (const name of outputs) binaryOutputs.add(name);
  } else {
    if (!Array.isArray(requested))
      throw serveError('FERRY_SERVE_BAD_REQUEST', { reason: '"outputs" must be an array' });
    outputs = requested.map((output, i) => {
      if (!isObject(output) || typeof output.name !== 'string')
        throw serveError('FERRY_SERVE_BAD_REQUEST', {
          reason: `outputs[${i}] must be an object with a string "name"`,
        });
      const params = jsonParameters(output.parameters, `outputs[${i}].parameters`);
      refuseClassification(params.classification, `outputs[${i}].parameters.classification`);
      const binary = booleanParameter(params.binary_data, `outputs[${i}].parameters.binary_data`);
      if (binary ?? binaryDefault) binaryOutputs.add(output.name);
      return output.name;
    });
  }

  const timeoutUs = countParameter(parameters.timeout, 'parameters.timeout');
  const sizes = inputParameters.map((params, i) =>
    countParameter(params.binary_data_size, `inputs[${i}].parameters.binary_data_size`),
  );
  return { id: doc.id as string | undefined, headers, outputs, binaryOutputs, timeoutUs, inputs, sizes };
}

/** A parsed JSON header and the binary data after it: the request, its data decoded on demand. */
export function restInferRequest(
  header: RestJsonHeader,
  tail: Uint8Array,
  served: ServedVersion,
): RestInferRequest {
  const { headers, inputs, sizes } = header;
  const decode = (): Map<string, Tensor> => {
    const map = new Map<string, Tensor>();
    let offset = 0;
    inputs.forEach((input: Json, i) => {
      const header = headers[i]!;
      const datatype = datatypeOf(served, header.name);
      const size = sizes[i];
      if (size !== undefined) {
        if (input.data !== undefined)
          throw serveError('FERRY_SERVE_INPUT', {
            input: header.name,
            reason: 'has both "data" and "binary_data_size"',
          });
        if (offset + size > tail.byteLength)
          throw serveError('FERRY_SERVE_INPUT', {
            input: header.name,
            reason: `binary_data_size ${size} at offset ${offset} runs past the ${tail.byteLength} bytes of binary data`,
          });
        map.set(
          header.name,
          decodeRawTensor(
            datatype,
            header.shape,
            tail.subarray(offset, offset + size),
            `${header.name} (inputs[${i}] binary data)`,
          ),
        );
        offset += size;
      } else {
        if (input.data === undefined)
          throw serveError('FERRY_SERVE_INPUT', {
            input: header.name,
            reason: 'has neither "data" nor "binary_data_size"',
          });
        map.set(
          header.name,
          decodeJsonTensor(datatype, header.shape, input.data, `${header.name} (inputs[${i}].data)`, 'json'),
        );
      }
    });
    if (offset !== tail.byteLength)
      throw serveError('FERRY_SERVE_BAD_REQUEST', {
        reason: `${tail.byteLength - offset} bytes of binary data after the inputs' binary_data_size total of ${offset}`,
      });
    return map;
  };

  return {
    id: header.id,
    headers,
    outputs: header.outputs,
    binaryOutputs: header.binaryOutputs,
    timeoutUs: header.timeoutUs,
    decode,
  };
}

/** The response: JSON, or a JSON header plus binary output data when any output asked for it. */
export function encodeRestResponse(
  served: ServedVersion,
  request: RestInferRequest,
  results: ReadonlyMap<string, Tensor>,
): { body: Buffer; headerLength?: number } {
  const answer = encodeRestResponseParts(served, request, results);
  return {
    body: joinedBody(answer),
    ...(answer.headerLength !== undefined && { headerLength: answer.headerLength }),
  };
}

/**
 * The response as its parts: the JSON header, then each binary output's bytes as they are (views
 * into the batch's output), for a writer that sends them without joining (lean-http-transport.ts:
 * one copy and ~4 KB of fresh external memory less per mid-MLP answer). The views stay in the
 * socket's write queue until sent: a backend hands every execution fresh output buffers, never
 * ones it will reuse.
 */
export interface RestResponseParts {
  readonly parts: readonly Uint8Array[];
  readonly byteLength: number;
  readonly headerLength?: number;
}

/** The parts joined into one buffer (node:http and fastify answer with one). */
export function joinedBody(answer: RestResponseParts): Buffer {
  const first = answer.parts[0]!;
  if (answer.parts.length === 1) return first as Buffer;
  return Buffer.concat(answer.parts as Uint8Array[], answer.byteLength);
}

export function encodeRestResponseParts(
  served: ServedVersion,
  request: RestInferRequest,
  results: ReadonlyMap<string, Tensor>,
): RestResponseParts {
  const chunks: Uint8Array[] = [];
  const outputs = request.outputs.map((name) => {
    const tensor = results.get(name)!;
    const head = `{"name":${JSON.stringify(name)},"datatype":"${tensor.datatype}","shape":[${tensor.shape.join(',')}]`;
    if (request.binaryOutputs.has(name)) {
      const raw = encodeRawTensor(tensor);
      chunks.push(raw);
      return `${head},"parameters":{"binary_data_size":${raw.byteLength}}}`;
    }
    return `${head},"data":${encodeJsonData(tensor)}}`;
  });
  const json = `{"model_name":${JSON.stringify(served.model)},"model_version":"${served.version}"${
    request.id !== undefined ? `,"id":${JSON.stringify(request.id)}` : ''
  },"outputs":[${outputs.join(',')}]}`;
  const header = Buffer.from(json, 'utf8');
  if (chunks.length === 0) return { parts: [header], byteLength: header.byteLength };
  let byteLength = header.byteLength;
  for (const chunk of chunks) byteLength += chunk.byteLength;
  return { parts: [header, ...chunks], byteLength, headerLength: header.byteLength };
}
