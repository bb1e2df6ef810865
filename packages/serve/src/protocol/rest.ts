import { createServer, type Server } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerFactory,
  LogController,
} from 'fastify';
import { isServeError, serveError } from '../errors.js';
import { MAX_BODY_BYTES } from '../limits.js';
import type { ServeMetrics } from '../metrics.js';
import type { ServedVersion } from '../repository/served-version.js';
import { SERVER_NAME, SERVER_VERSION, type ServerContext, serverExtensions } from './context.js';
import { registerTritonRoutes } from './rest-triton.js';
import { answerRestInfer } from './rest-infer-answer.js';
import { joinedBody } from './rest-infer.js';
import { publishedTensors } from './tensor-metadata.js';
import type { InflightBudget } from './inflight-budget.js';
import { guardRequestBodies } from './rest-body-guard.js';
import { restFastInfer } from './rest-fast-infer.js';
import { attachLeanTransport } from './lean-http-transport.js';
import { requestId } from './request-id.js';
import { checkBearer } from './token.js';

type ModelParams = { model: string; version?: string };

/** The Open Inference Protocol v2 REST API (inference_rest.md) plus /metrics and the repository extension. */
export function createRestApp(
  context: ServerContext,
  options: {
    metricsRoute: boolean;
    metricsCorsOrigins?: readonly string[];
    /** Bodies: per-model limits and the server's in-flight byte budget (rest-body-guard.ts). */
    bodies?: { budget: InflightBudget; maxVariableDim: number };
  },
): FastifyInstance {
  // infer requests that need none of fastify's work are answered in front of it (rest-fast-infer.ts,
  // lean-http-transport.ts)
  const fast = options.bodies && restFastInfer(context, options.bodies);
  const serverFactory: FastifyServerFactory<Server> | undefined =
    fast &&
    ((handler, opts) => {
      const server = createServer((req, res) => {
        if (!fast(req, res)) handler(req, res);
      });
      // plain infer requests are read from the sockets themselves, the rest handed to node:http
      attachLeanTransport(server, context, options.bodies!);
      // what fastify sets on a server it creates itself (applyConnectionLimits sets the rest)
      const given = opts as {
        keepAliveTimeout?: number;
        requestTimeout?: number;
        connectionTimeout?: number;
      };
      server.keepAliveTimeout = given.keepAliveTimeout ?? server.keepAliveTimeout;
      server.requestTimeout = given.requestTimeout ?? server.requestTimeout;
      server.setTimeout(given.connectionTimeout ?? 0);
      return server;
    });
  const app = Fastify({
    ...(serverFactory && { serverFactory }),
    loggerInstance: context.log as unknown as FastifyBaseLogger,
    // one log line per request, written by the onResponse hook below
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    genReqId: requestId,
    bodyLimit: MAX_BODY_BYTES,
  });

  // Every body is taken as bytes: the infer route parses JSON itself (it may be followed by binary data).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) =>
    done(null, body),
  );
  if (options.bodies) guardRequestBodies(app, context, options.bodies.budget, options.bodies.maxVariableDim);

  // callback-style hooks: an async hook costs every request a promise and a microtask turn
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    done(null, payload);
  });
  app.addHook('onResponse', (req, reply, done) => {
    if (context.log.isLevelEnabled('info'))
      req.log.info(
        {
          method: req.method,
          url: req.url,
          status: reply.statusCode,
          ms: Number(reply.elapsedTime.toFixed(3)),
        },
        'request',
      );
    done();
  });

  app.setErrorHandler((error, req, reply) => {
    if (isServeError(error)) {
      if (error.http >= 500) req.log.warn({ code: error.code }, error.message);
      return reply.code(error.http).send({ error: error.message });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) req.log.error({ err: error }, 'internal error');
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : (error as Error).message });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: `no route ${req.method} ${req.url}` }),
  );

  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_req, reply) => {
    const ready = context.ready();
    return reply.code(ready ? 200 : 503).send({ ready });
  });
  app.get('/v2', async () => ({
    name: SERVER_NAME,
    version: SERVER_VERSION,
    extensions: serverExtensions(context, 'rest'),
  }));
  registerTritonRoutes(app, context);

  const metadata = (served: ServedVersion) => ({
    name: served.model,
    versions: context.repository.versionsOf(served.model),
    platform: served.platform,
    inputs: publishedTensors(served.inputs),
    outputs: publishedTensors(served.outputs),
  });
  const resolve = (params: ModelParams) => context.repository.resolve(params.model, params.version);
  app.get<{ Params: ModelParams }>('/v2/models/:model', async (req) => metadata(resolve(req.params)));
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version', async (req) =>
    metadata(resolve(req.params)),
  );

  const ready = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    let isReady = false;
    try {
      resolve(req.params);
      isReady = !context.draining();
    } catch (error) {
      if (isServeError(error) && error.http === 404) throw error;
    }
    return reply.code(isReady ? 200 : 503).send({ name: req.params.model, ready: isReady });
  };
  app.get<{ Params: ModelParams }>('/v2/models/:model/ready', ready);
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/ready', ready);

  const inferRoute = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    if (context.draining()) throw serveError('FERRY_SERVE_SHUTTING_DOWN');
    const served = resolve(req.params);
    const body = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
    const headerLength = req.headers['inference-header-content-length'];
    const header = typeof headerLength === 'string' ? headerLength : undefined;
    const answer = await answerRestInfer(context, served, body, header, reply.raw);
    if (answer.headerLength !== undefined)
      reply.header('inference-header-content-length', answer.headerLength).type('application/octet-stream');
    else reply.type('application/json');
    return reply.send(joinedBody(answer));
  };
  app.post<{ Params: ModelParams }>('/v2/models/:model/infer', inferRoute);
  app.post<{ Params: ModelParams }>('/v2/models/:model/versions/:version/infer', inferRoute);

  if (options.metricsRoute) registerMetricsRoute(app, context.metrics, options.metricsCorsOrigins);

  if (context.repositoryToken !== undefined) registerRepositoryRoutes(app, context, context.repositoryToken);
  return app;
}

/** GET /metrics: Prometheus text from the server's registry. */
export function registerMetricsRoute(
  app: FastifyInstance,
  metrics: ServeMetrics,
  corsOrigins: readonly string[] = [],
): void {
  app.get('/metrics', async (req, reply) => {
    // Only the origins named (the registry's web UI under ferry up) may read metrics from a page.
    const origin = req.headers.origin;
    if (origin !== undefined && corsOrigins.includes(origin))
      reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

/** The model repository extension (Triton's extension_model_repository.md), behind a bearer token. */
function registerRepositoryRoutes(app: FastifyInstance, context: ServerContext, token: string): void {
  const guard = async (req: FastifyRequest) => checkBearer(req.headers.authorization, token);
  app.post('/v2/repository/index', { onRequest: guard }, async () => context.repository.index());
  const control =
    (action: 'load' | 'unload') => async (req: FastifyRequest<{ Params: { model: string } }>) => {
      if (context.repository.mode !== 'explicit')
        throw serveError('FERRY_SERVE_CONTROL', {
          reason: `model control mode is ${context.repository.mode}; ${action} needs --model-control explicit`,
        });
      if (context.draining()) throw serveError('FERRY_SERVE_SHUTTING_DOWN');
      if (action === 'load') await context.repository.load(req.params.model);
      else await context.repository.unload(req.params.model);
      return {};
    };
  app.post<{ Params: { model: string } }>(
    '/v2/repository/models/:model/load',
    { onRequest: guard },
    control('load'),
  );
  app.post<{ Params: { model: string } }>(
    '/v2/repository/models/:model/unload',
    { onRequest: guard },
    control('unload'),
  );
}
