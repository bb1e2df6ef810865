import type * as grpc from '@grpc/grpc-js';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { tuneGcForServing } from './gc-tuning.js';
import { HandlerPool } from './handler/handler-pool.js';
import { registerHandlerRoutes } from './handler/handler-route.js';
import { ServeMetrics } from './metrics.js';
import type { ServerContext } from './protocol/context.js';
import { startGrpcFront } from './protocol/grpc-front.js';
import { applyConnectionLimits } from './protocol/http-connection-limits.js';
import { InflightBudget } from './protocol/inflight-budget.js';
import type { LeanGrpcFront } from './protocol/lean-h2-front.js';
import { createRestApp, registerMetricsRoute } from './protocol/rest.js';
import type { RegistryClient } from '@ferry/registry-client';
import {
  ALIAS_EVENTS_PATH,
  type AliasEvents,
  aliasEventsRoute,
  newEventSecret,
  subscribeAliasEvents,
} from './repository/alias-events.js';
import { DeploymentReporter } from './repository/deployment-reporter.js';
import { type ModelSource, sourceFor } from './repository/layout.js';
import { type DeploymentSpec, registrySource } from './repository/registry-source.js';
import { type ModelControlMode, ModelRepository } from './repository/repository.js';
import { resolveServerLimits, type ServerLimits } from './server-limits.js';
import { drainFrontEnds, HttpConnections } from './shutdown.js';

export interface ServeOptions {
  /** A model repository folder (REPO/<model>/<version>/model.onnx) or one model file. */
  readonly path?: string;
  /**
   * Serve deployments from a ferry registry instead of a folder: each follows its alias (polled
   * every pollIntervalMs; a move loads, warms and swaps in the new version, then drains the old
   * one) and its state is reported back to the registry.
   */
  readonly registry?: {
    readonly client: RegistryClient;
    readonly cacheDir: string;
    /** These deployments only; without them every deployment the registry lists. */
    readonly deployments?: readonly DeploymentSpec[];
    /** Subscribe to the registry's alias.moved webhook to switch at once (default true; needs admin). */
    readonly events?: boolean;
    /** How often each deployment's state is re-sent to the registry (default DEFAULT_HEARTBEAT_MS, 10 s). */
    readonly heartbeatMs?: number;
  };
  /** Defaults to 127.0.0.1: serving beyond this machine is a deliberate choice. */
  readonly host?: string;
  /** 0 picks a free port; undefined = 8000 / 8001. null turns the front end off. */
  readonly httpPort?: number | null;
  readonly grpcPort?: number | null;
  /**
   * Who serves the gRPC port: 'lean' (default), the lean HTTP/2 front (protocol/lean-h2-front.ts)
   * with grpc-js behind it on loopback; 'node', grpc-js's node:http2 server itself.
   */
  readonly grpcFront?: 'lean' | 'node';
  /** Serve /metrics on its own port instead of the HTTP port. */
  readonly metricsPort?: number;
  /** Web origins allowed to read /metrics from a page (CORS), e.g. the registry UI's. */
  readonly metricsCorsOrigins?: readonly string[];
  readonly modelControl?: ModelControlMode;
  /** Models to load at startup in explicit mode ('*' = all). */
  readonly loadModels?: readonly string[];
  readonly pollIntervalMs?: number;
  /** Enables the repository extension routes, guarded by this bearer token. */
  readonly repositoryToken?: string;
  readonly logger?: Logger;
  readonly logLevel?: string;
  /**
   * Bundle handlers: each model named here also answers POST /v2/models/<model>/handler, running
   * the ES module's preprocess/postprocess in `threads` worker threads around the model.
   */
  readonly handlers?: readonly { model: string; module: string; threads?: number }[];
  /** Where models converted at load (SavedModels) are cached; default under the OS temp folder. */
  readonly cacheDir?: string;
  /** Timeouts, connection cap, body budget and drain deadline; each defaults (limits.ts). */
  readonly limits?: Partial<ServerLimits>;
}

export interface RunningServer {
  readonly httpPort: number | undefined;
  readonly grpcPort: number | undefined;
  readonly metricsPort: number | undefined;
  readonly repository: ModelRepository;
  readonly metrics: ServeMetrics;
  /** Polls the source once now (a registry deployment's alias moved, a webhook said so). */
  refresh(): Promise<void>;
  /**
   * Stops accepting, closes idle connections at once, lets queued and running requests finish
   * until the drain deadline (limits.drainTimeoutMs), then cuts what is left and closes everything.
   */
  close(): Promise<void>;
}

/**
 * Starts the server: the front ends listen first (live, not ready), then the startup models
 * load and warm up, then readiness turns true. A model that fails to load at startup fails
 * the start (like Triton's default exit-on-error).
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  tuneGcForServing();
  const log = options.logger ?? pino({ level: options.logLevel ?? 'info' });
  const limits = resolveServerLimits(options.limits);
  const budget = new InflightBudget(limits.maxInflightBytes);
  const host = options.host ?? '127.0.0.1';
  let source: ModelSource;
  let reporter: DeploymentReporter | undefined;
  if (options.registry) {
    source = registrySource(options.registry);
    reporter = new DeploymentReporter(options.registry.client, log);
  } else
    source = await sourceFor(options.path ?? '', {
      ...(options.cacheDir !== undefined && { cacheDir: options.cacheDir }),
    });
  const metrics = new ServeMetrics();
  // deployments follow their aliases: always polled
  const mode = options.registry ? 'poll' : (options.modelControl ?? 'none');
  const repository = new ModelRepository(source, mode, metrics, log, reporter?.onEvent);
  let started = false;
  let draining = false;
  let closing: Promise<void> | undefined;
  const context: ServerContext = {
    repository,
    metrics,
    log,
    ready: () => started && !draining && repository.allReady(),
    draining: () => draining,
    repositoryToken: options.repositoryToken,
  };

  let http: FastifyInstance | undefined;
  let metricsApp: FastifyInstance | undefined;
  let grpcServer: grpc.Server | undefined;
  let leanGrpc: LeanGrpcFront | undefined;
  let httpPort: number | undefined;
  let events: AliasEvents | undefined;
  const eventSecret = newEventSecret();
  let grpcPort: number | undefined;
  let metricsPort: number | undefined;
  const pools = new Map<string, HandlerPool>();
  const connections: HttpConnections[] = [];
  const shutdown = async (work: Promise<unknown> = Promise.resolve()) => {
    await events?.close();
    const { forced } = await drainFrontEnds({ http: connections, grpc: grpcServer, leanGrpc }, work, limits);
    if (forced) log.warn({ drainTimeoutMs: limits.drainTimeoutMs }, 'drain deadline passed: connections cut');
    await repository.close();
    await Promise.all([...pools.values()].map((p) => p.close()));
  };
  try {
    for (const h of options.handlers ?? []) pools.set(h.model, await HandlerPool.start(h.module, h.threads));
    if (options.httpPort !== null) {
      http = createRestApp(context, {
        metricsRoute: options.metricsPort === undefined,
        ...(options.metricsCorsOrigins && { metricsCorsOrigins: options.metricsCorsOrigins }),
        bodies: { budget, maxVariableDim: limits.maxVariableDim },
      });
      applyConnectionLimits(http.server, limits);
      connections.push(new HttpConnections(http, () => draining));
      if (pools.size > 0) registerHandlerRoutes(http, context, pools);
      if (options.registry && options.registry.events !== false)
        aliasEventsRoute(http, eventSecret, () => {
          repository
            .poll()
            .catch((error: Error) => log.error({ err: error.message }, 'poll after an event failed'));
        });
      await http.listen({ host, port: options.httpPort ?? 8000 });
      httpPort = (http.server.address() as { port: number }).port;
      if (reporter) reporter.endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${httpPort}`;
      if (options.registry && options.registry.events !== false && reporter?.endpoint)
        events = await subscribeAliasEvents(
          options.registry.client,
          `${reporter.endpoint}${ALIAS_EVENTS_PATH}`,
          eventSecret,
          log,
        );
    }
    if (options.metricsPort !== undefined) {
      metricsApp = Fastify();
      registerMetricsRoute(metricsApp, metrics, options.metricsCorsOrigins);
      applyConnectionLimits(metricsApp.server, limits);
      connections.push(new HttpConnections(metricsApp, () => draining));
      await metricsApp.listen({ host, port: options.metricsPort });
      metricsPort = (metricsApp.server.address() as { port: number }).port;
    }
    if (options.grpcPort !== null) {
      const front = await startGrpcFront(context, {
        host,
        port: options.grpcPort ?? 8001,
        lean: options.grpcFront !== 'node',
        limits,
        budget,
      });
      grpcServer = front.server;
      leanGrpc = front.lean;
      grpcPort = front.port;
    }
    log.info({ host, httpPort, grpcPort, metricsPort }, 'listening; loading models');
    await repository.start(options.loadModels ?? [], { tolerant: options.registry !== undefined });
    repository.startPolling(options.pollIntervalMs ?? 5000);
    reporter?.startHeartbeat(options.registry?.heartbeatMs);
    started = true;
    log.info({ models: repository.all().map((v) => `${v.model}/${v.version}`) }, 'ready');
  } catch (error) {
    await shutdown();
    throw error;
  }

  return {
    httpPort,
    grpcPort,
    metricsPort,
    repository,
    metrics,
    refresh: () => repository.poll(),
    close() {
      if (closing) return closing;
      draining = true;
      log.info(
        { drainTimeoutMs: limits.drainTimeoutMs },
        'draining: refusing new requests and connections, finishing queued ones',
      );
      closing = (async () => {
        await shutdown(repository.drain());
        // the registry hears at once that this endpoint stopped (a crash: when its heartbeat expires)
        await reporter?.stop();
        log.info('stopped');
      })();
      return closing;
    },
  };
}
