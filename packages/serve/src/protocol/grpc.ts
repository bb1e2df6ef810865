import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Http2Session } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { isServeError, type ServeError, serveError } from '../errors.js';
import { GRPC_WINDOW_BYTES, MAX_BODY_BYTES } from '../limits.js';
import type { ServedVersion } from '../repository/served-version.js';
import { Cancellation } from '../scheduler/cancellation.js';
import type { Datatype } from '@ferry/serving-api';
import { elementCount, type Tensor } from '@ferry/serving-api';
import { decodeRawTensor, encodeRawTensor } from './binary-data.js';
import { SERVER_NAME, SERVER_VERSION, type ServerContext, serverExtensions } from './context.js';
import { countFailure, datatypeOf, type InputHeader, infer } from './inference.js';
import { decodeJsonTensor } from './json-data.js';
import { publishedTensors } from './tensor-metadata.js';
import {
  fieldError,
  grpcCountParameter,
  grpcShape,
  type ParameterValue,
  refuseClassification,
} from './request-rules.js';
import { PROTO_OPTIONS, PROTO_PATH } from './proto-path.js';

export function loadInferenceProto(): grpc.GrpcObject {
  return grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS));
}

/**
 * Opens each new connection's receive windows (the connection's and every stream's) to
 * GRPC_WINDOW_BYTES. @grpc/grpc-js 1.14 leaves its server at Node's 64 KiB and has no option for
 * it, so this reaches its HTTP/2 servers (a private field, present once bindAsync has answered);
 * where a release no longer has that field it does nothing and returns false.
 */
export function widenReceiveWindow(server: grpc.Server): boolean {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) return false;
  for (const http2Server of http2Servers.keys() as Iterable<EventEmitter>)
    http2Server.on('session', (session: Http2Session) => {
      session.setLocalWindowSize(GRPC_WINDOW_BYTES);
      session.settings({ initialWindowSize: GRPC_WINDOW_BYTES });
    });
  return http2Servers.size > 0;
}

/** HTTP status of a ServeError -> gRPC status code. */
export function grpcStatusOf(http: number): grpc.status {
  if (http === 400 || http === 413) return grpc.status.INVALID_ARGUMENT;
  if (http === 401) return grpc.status.UNAUTHENTICATED;
  if (http === 404) return grpc.status.NOT_FOUND;
  if (http === 503) return grpc.status.UNAVAILABLE;
  return grpc.status.INTERNAL;
}

type Callback = grpc.sendUnaryData<unknown>;
type Params = Record<string, { parameter_choice?: string; [key: string]: unknown }>;

interface InferInputTensor {
  name: string;
  datatype: string;
  shape: string[];
  parameters: Params;
  contents: Record<string, unknown[]> | null;
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

function paramValue(param: Params[string] | undefined): ParameterValue | undefined {
  return param?.parameter_choice ? (param[param.parameter_choice] as ParameterValue) : undefined;
}

/** True when an input carries any typed contents (an empty InferTensorContents carries none). */
function hasContents(input: InferInputTensor): boolean {
  return Object.values(input.contents ?? {}).some((list) => Array.isArray(list) && list.length > 0);
}

function fail(callback: Callback, error: unknown, context: ServerContext): void {
  const serve: ServeError = isServeError(error)
    ? error
    : serveError('FERRY_SERVE_EXECUTION', { model: '?', version: '?', reason: (error as Error).message });
  if (!isServeError(error)) context.log.error({ err: error }, 'grpc internal error');
  callback({ code: grpcStatusOf(serve.http), details: serve.message }, null);
}

/** inference.GRPCInferenceService on @grpc/grpc-js. */
export function createGrpcServer(context: ServerContext, options: grpc.ServerOptions = {}): grpc.Server {
  const proto = loadInferenceProto() as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  };
  // grpc-js prints its own errors on stderr ("E No address added ..." for a busy port, which the
  // caller already reports in one line): send them to the server's log instead
  grpc.setLogger({ error: (...args: unknown[]) => context.log.warn({ grpc: args.join(' ') }, 'grpc-js') });
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_BODY_BYTES,
    'grpc.max_send_message_length': MAX_BODY_BYTES,
    // read by grpc-js releases with grpc/grpc-node#3058; widenReceiveWindow() does it until then
    'grpc-node.flow_control_window': GRPC_WINDOW_BYTES,
    ...options,
  });
  const unary =
    (handler: (request: Record<string, unknown>, call: grpc.ServerUnaryCall<unknown, unknown>) => unknown) =>
    async (call: grpc.ServerUnaryCall<unknown, unknown>, callback: Callback) => {
      try {
        callback(null, await handler(call.request as Record<string, unknown>, call));
      } catch (error) {
        fail(callback, error, context);
      }
    };
  const resolve = (request: Record<string, unknown>, nameField = 'name', versionField = 'version') =>
    context.repository.resolve(String(request[nameField] ?? ''), String(request[versionField] ?? ''));

  server.addService(proto.inference.GRPCInferenceService.service, {
    ServerLive: unary(() => ({ live: true })),
    ServerReady: unary(() => ({ ready: context.ready() })),
    ServerMetadata: unary(() => ({
      name: SERVER_NAME,
      version: SERVER_VERSION,
      extensions: serverExtensions(context, 'grpc'),
    })),
    ModelReady: unary((request) => {
      try {
        resolve(request);
        return { ready: !context.draining() };
      } catch (error) {
        if (isServeError(error) && error.http === 404) throw error;
        return { ready: false };
      }
    }),
    ModelMetadata: unary((request) => {
      const served = resolve(request);
      return {
        name: served.model,
        versions: context.repository.versionsOf(served.model),
        platform: served.platform,
        inputs: publishedTensors(served.inputs),
        outputs: publishedTensors(served.outputs),
        properties: {},
      };
    }),
    ModelInfer: unary(async (request, call) => {
      if (context.draining()) throw serveError('FERRY_SERVE_SHUTTING_DOWN');
      const served = resolve(request, 'model_name', 'model_version');
      return modelInfer(served, request, call, context);
    }),
  });
  return server;
}

async function modelInfer(
  served: ServedVersion,
  request: Record<string, unknown>,
  call: grpc.ServerUnaryCall<unknown, unknown>,
  context: ServerContext,
): Promise<unknown> {
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
  const abort = new Cancellation();
  const onCancel = () => abort.abort();
  call.once('cancelled', onCancel);
  const started = performance.now();
  try {
    const results = await infer(served, context.metrics, {
      headers,
      outputs,
      decode,
      ...(timeout !== undefined && { timeoutUs: timeout }),
      signal: abort,
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
    const raw = outputs.map((name) => {
      const bytes = encodeRawTensor(results.get(name)!);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    });
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
  } finally {
    call.off('cancelled', onCancel);
  }
}

/** The request's inputs as headers and a decoder, checked for shape and raw-contents structure. */
function parseGrpcInfer(served: ServedVersion, request: Record<string, unknown>) {
  const inputs = request.inputs as InferInputTensor[];
  const raw = request.raw_input_contents as Buffer[];
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
  const requested = request.outputs as { name: string; parameters: Params }[];
  requested.forEach((o, i) => {
    refuseClassification(paramValue(o.parameters?.classification), `outputs[${i}].parameters.classification`);
  });
  const outputs = requested.length > 0 ? requested.map((o) => o.name) : served.outputs.map((o) => o.name);
  const timeout = grpcCountParameter((request.parameters as Params).timeout, 'parameters.timeout');
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
