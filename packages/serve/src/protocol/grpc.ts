import type { EventEmitter } from 'node:events';
import type { Http2Session } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { isServeError } from '../errors.js';
import { GRPC_WINDOW_BYTES, MAX_BODY_BYTES } from '../limits.js';
import { Cancellation } from '../scheduler/cancellation.js';
import { SERVER_NAME, SERVER_VERSION, type ServerContext, serverExtensions } from './context.js';
import type { ServerLimits } from '../server-limits.js';
import { type DirectInferOptions, takeModelInferStreams } from './grpc-direct-infer.js';
import { answerModelInfer, grpcErrorOf, type InferRequestMessage } from './grpc-infer.js';
import type { InflightBudget } from './inflight-budget.js';
import { PROTO_OPTIONS, PROTO_PATH } from './proto-path.js';
import { publishedTensors } from './tensor-metadata.js';

let inferenceProto: grpc.GrpcObject | undefined;
export function loadInferenceProto(): grpc.GrpcObject {
  inferenceProto ??= grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, PROTO_OPTIONS));
  return inferenceProto;
}

type InferenceService = { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };

/**
 * ModelInfer answered on grpc-js's HTTP/2 streams directly (grpc-direct-infer.ts), with grpc-js's
 * message size limits and protobufjs for what the hand-written codec leaves. Once bindAsync has
 * answered and guardGrpcStreams is in place, as the last 'stream' listener; false where grpc-js
 * keeps its servers elsewhere.
 */
export function answerModelInferDirectly(
  server: grpc.Server,
  context: ServerContext,
  guard: { limits: ServerLimits; budget: InflightBudget },
): boolean {
  return takeModelInferStreams(server, context, directInferOptions(guard));
}

/** The direct path's limits and protobufjs codec: grpc-js's own for ModelInfer (the lean front's too). */
export function directInferOptions(guard: {
  limits: ServerLimits;
  budget: InflightBudget;
}): DirectInferOptions {
  const method = (loadInferenceProto() as unknown as InferenceService).inference.GRPCInferenceService.service
    .ModelInfer!;
  return {
    maxReceiveBytes: MAX_BODY_BYTES,
    maxSendBytes: MAX_BODY_BYTES,
    deserialize: method.requestDeserialize,
    serialize: method.responseSerialize,
    ...guard,
  };
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

type Callback = grpc.sendUnaryData<unknown>;

function fail(callback: Callback, error: unknown, context: ServerContext): void {
  callback(grpcErrorOf(error, context), null);
}

/** inference.GRPCInferenceService on @grpc/grpc-js. */
export function createGrpcServer(context: ServerContext, options: grpc.ServerOptions = {}): grpc.Server {
  const proto = loadInferenceProto() as unknown as InferenceService;
  // grpc-js prints its own errors on stderr ("E No address added ..." for a busy port, which the
  // caller already reports in one line): send them to the server's log instead
  grpc.setLogger({ error: (...args: unknown[]) => context.log.warn({ grpc: args.join(' ') }, 'grpc-js') });
  const server = new grpc.Server({
    // answerModelInferDirectly applies the same two limits
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
    ModelInfer: unary((request, call) => {
      // the call's 'cancelled' (client gone, deadline passed) drops the request from its queue
      const abort = new Cancellation();
      const onCancel = () => abort.abort();
      call.once('cancelled', onCancel);
      return answerModelInfer(context, request as unknown as InferRequestMessage, abort).finally(() =>
        call.off('cancelled', onCancel),
      );
    }),
  });
  return server;
}
