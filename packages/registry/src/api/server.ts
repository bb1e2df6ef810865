import { chmod, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import swagger from '@fastify/swagger';
import { isFerryError } from '@ferry/formats';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { isRegistryError, type RegistryError, registryError } from '../errors.js';
import { MAX_CARD_BYTES, MAX_JSON_BODY_BYTES } from '../limits.js';
import type { BlobStore } from '../store/blob-store.js';
import type { RegistryDb } from '../store/registry-db.js';
import { authenticate, hashToken, isTokenShaped, LOCAL_ADMIN, newToken } from './auth.js';
import { AuthFailureLimiter, type AuthLimiterOptions, failureKey } from './auth-limiter.js';
import { isHubPath } from './hub/hub-error.js';
import { hubRoutes } from './hub/routes.js';
import { mlflowRoutes } from './mlflow/routes.js';
import { lineageRoutes } from './routes-lineage.js';
import { modelRoutes } from './routes-models.js';
import { runListRoutes } from './routes-runs.js';
import { tensorRoutes } from './routes-tensors.js';
import { tokenRoutes } from './routes-tokens.js';
import { transferRoutes } from './routes-transfers.js';
import { versionRoutes } from './routes-versions.js';
import { webhookRoutes } from './routes-webhooks.js';
import { DEFAULT_UI_DIR, uiRoutes } from './static-ui.js';
import { deploymentRoutes } from './routes-deployments.js';
import { type OpenApiDocument, renderDocsPage } from './docs-page.js';
import { RegistryMetrics } from './metrics.js';
import { ChunkedBlobStore } from '../store/chunked-blob-store.js';
import { openProcessScratch } from '../store/process-scratch.js';
import { ChunkCollector } from './chunk-collector.js';
import { chunkRoutes } from './routes-chunks.js';
import { type UploadExpiryOptions, UploadSweeper } from './upload-sweeper.js';
import { type DispatcherOptions, WebhookDispatcher } from './webhook-dispatcher.js';
import { type WebhookTargetPolicy, WebhookTargets } from './webhook-target.js';

export interface RegistryServerOptions {
  readonly db: RegistryDb;
  readonly blobs: BlobStore;
  /** 'none': every caller is admin (local development only). */
  readonly auth?: 'tokens' | 'none';
  /** Where the first-start admin token goes; an existing file's token is used instead. */
  readonly adminTokenFile?: string;
  /** Webhook delivery timing (tests shorten it); false: this server sends no webhooks. */
  readonly webhooks?: DispatcherOptions | false;
  /** Where the server says things once (the first admin token); defaults to stderr. */
  readonly log?: (line: string) => void;
  /** The built web UI served at `/` (default packages/ui/dist); false: no UI. */
  readonly ui?: string | false;
  /** Failed-authentication throttling (defaults: MAX_AUTH_FAILURES per AUTH_FAILURE_WINDOW_MS). */
  readonly authLimits?: AuthLimiterOptions;
  /** Abandoned upload expiry (default: idle 24 h, swept at start and every 15 min). */
  readonly uploads?: UploadExpiryOptions;
  /** Non-public webhook targets allowed (default none: loopback, private, link-local refused). */
  readonly webhookTargets?: WebhookTargetPolicy;
  /** How long a serving server's heartbeat counts before its endpoint reads offline (default 30 s). */
  readonly deploymentExpiryMs?: number;
  /**
   * Where each server keeps its temporary files, a folder of its own (store/process-scratch.ts);
   * dead processes' folders are removed at start and every SCRATCH_HEARTBEAT_MS (`ferry registry
   * serve`: DATA/tmp; default: a per-user folder in the OS temp folder).
   */
  readonly scratch?: string;
}

export interface RegistryServer {
  readonly app: FastifyInstance;
  /** The first-start admin token when this server created it (also printed or written to the file). */
  readonly adminToken: string | undefined;
  close(): Promise<void>;
}

/** Builds the registry's HTTP server (not listening yet: call app.listen). */
export async function createRegistryServer(options: RegistryServerOptions): Promise<RegistryServer> {
  const { db, blobs } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // A bad allow entry stops the start before anything is written.
  const targets = new WebhookTargets(options.webhookTargets);
  await db.migrate();
  const adminToken = options.auth === 'none' ? undefined : await firstAdmin(db, options.adminTokenFile, log);
  // The first sweep runs before the server answers: a restart after kill -9 removes old orphans.
  const sweeper = new UploadSweeper(db.uploads, blobs, options.uploads);
  await sweeper.start();
  // Likewise the spool and layout files a killed process left in its scratch folder.
  const scratch = await openProcessScratch(
    // getuid, not userInfo(): a container's uid may have no passwd entry (userInfo throws).
    options.scratch ?? join(tmpdir(), `ferry-registry-${process.getuid?.() ?? 'user'}`),
  );

  const app = Fastify({
    bodyLimit: MAX_JSON_BODY_BYTES,
    // Unknown fields are an error, not silently dropped (ajv's removeAdditional would drop them).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    routerOptions: { maxParamLength: 500 },
  });

  // Uploads: the raw request stream goes straight to the blob store, never buffered.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  app.addContentTypeParser(
    ['text/markdown', 'text/plain'],
    { parseAs: 'string', bodyLimit: MAX_CARD_BYTES },
    (_request, body, done) => done(null, { card: body }),
  );

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'ferry registry',
        version: '0.1.0',
        description: 'Models, versions, aliases, lineage and access control.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  new RegistryMetrics().register(app);

  const limiter = new AuthFailureLimiter(options.authLimits);
  app.decorateRequest('principal', undefined as never);
  app.addHook('onRequest', async (request) => {
    request.principal =
      options.auth === 'none'
        ? LOCAL_ADMIN
        : await authenticate(db, limiter, failureKey(request.ip), request.headers.authorization);
  });

  app.setErrorHandler((error: FastifyError | RegistryError, _request, reply) => {
    const mapped = toRegistryError(error);
    if (mapped.code === 'FERRY_REGISTRY_RATE_LIMITED')
      reply.header('retry-after', String(mapped.params.seconds ?? 60));
    if (mapped.code === 'FERRY_REGISTRY_UNAUTHORIZED')
      reply.header('www-authenticate', 'Bearer realm="ferry"');
    if (mapped.http >= 500) app.log.error(error);
    return reply.code(mapped.http).send({ error: { code: mapped.code, message: mapped.message } });
  });
  app.setNotFoundHandler((request, reply) => {
    const message = `route ${request.method} ${request.url.split('?')[0]} does not exist`;
    // The Hub's clients read `error` as a string (huggingface.js showed "[object Object]").
    if (isHubPath(request.url))
      return reply.code(404).header('x-error-message', message).send({ error: message });
    return reply.code(404).send({ error: { code: 'FERRY_REGISTRY_NOT_FOUND', message } });
  });

  // Every route stores and reads files as chunks + manifests (issue #20); the raw store holds chunks.
  const files = new ChunkedBlobStore(blobs, db.chunks, scratch.dir);
  const context = { db, blobs: files, files, scratch: scratch.dir };
  const collector = new ChunkCollector(files);
  collector.start();
  modelRoutes(app, context);
  versionRoutes(app, context);
  transferRoutes(app, context);
  chunkRoutes(app, context);
  lineageRoutes(app, context);
  runListRoutes(app, context);
  tokenRoutes(app, context);
  tensorRoutes(app, context);
  const hooks = db.webhooks;
  webhookRoutes(app, context, hooks, targets);
  if (options.deploymentExpiryMs !== undefined) db.deployments.expiryMs = options.deploymentExpiryMs;
  deploymentRoutes(app, context, db.deployments);
  await app.register((scope) => mlflowRoutes(scope, context), { prefix: '/api/2.0/mlflow' });
  await app.register((scope) => hubRoutes(scope, context));
  app.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  // The OpenAPI document at its own URL, and a page a person can read at /docs (#25).
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
  let docsPage: string | undefined;
  app.get('/docs', { schema: { hide: true } }, async (_request, reply) => {
    docsPage ??= renderDocsPage(app.swagger() as OpenApiDocument, OPENAPI_PATH);
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'")
      .header('x-content-type-options', 'nosniff')
      .send(docsPage);
  });
  if (options.ui !== false) await uiRoutes(app, options.ui ?? DEFAULT_UI_DIR, log);
  await app.ready();
  const dispatcher =
    options.webhooks === false ? undefined : new WebhookDispatcher(hooks, options.webhooks, targets);
  dispatcher?.start();

  return {
    app,
    adminToken,
    async close() {
      await sweeper.stop();
      await collector.stop();
      await dispatcher?.stop();
      await app.close();
      await scratch.close();
    },
  };
}

/** Where the OpenAPI 3 document is served (the browsable page is /docs). */
export const OPENAPI_PATH = '/openapi.json';

/** Maps fastify's own errors (validation, bad JSON, body size) onto the registry's table. */
function toRegistryError(error: unknown): RegistryError {
  if (isRegistryError(error)) return error;
  if (isFerryError(error))
    return registryError(error.http === 400 ? 'FERRY_REGISTRY_BAD_REQUEST' : 'FERRY_REGISTRY_BACKEND', {
      what: error.code,
      reason: error.message,
      backend: 'formats',
    });
  const e = error as FastifyError & {
    validation?: {
      keyword: string;
      instancePath: string;
      params: Record<string, unknown>;
      message?: string;
    }[];
    validationContext?: string;
  };
  if (e.validation) {
    const first = e.validation[0]!;
    const where = `${e.validationContext ?? 'request'}${first.instancePath.replace(/\//g, '.')}`;
    const reason =
      first.keyword === 'additionalProperties'
        ? `unknown field ${JSON.stringify(first.params.additionalProperty)}`
        : (first.message ?? first.keyword);
    return registryError('FERRY_REGISTRY_BAD_REQUEST', { what: where, reason });
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return registryError('FERRY_REGISTRY_TOO_LARGE', {
      what: 'request body',
      value: 'more than the limit',
      limit: MAX_JSON_BODY_BYTES,
    });
  if (
    e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    (e.statusCode === 400 && e instanceof SyntaxError)
  )
    return registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'body',
      reason: `not valid JSON (${e.message})`,
    });
  if (e.statusCode === 415)
    return registryError('FERRY_REGISTRY_BAD_REQUEST', { what: 'Content-Type', reason: e.message });
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
    return registryError('FERRY_REGISTRY_BAD_REQUEST', { what: 'request', reason: e.message });
  if ((e as { code?: string }).code === 'ECONNREFUSED')
    return registryError('FERRY_REGISTRY_BACKEND', { backend: 'database', reason: e.message });
  return registryError('FERRY_REGISTRY_BACKEND', { backend: 'registry', reason: e.message ?? String(error) });
}

/**
 * On the very first start (no token in the database) an admin token is created and shown once:
 * written to `adminTokenFile` (mode 0600) or printed. A token already in that file is used instead,
 * so scripts can choose it. With several servers on one database only the first one creates it.
 */
async function firstAdmin(
  db: RegistryDb,
  file: string | undefined,
  log: (line: string) => void,
): Promise<string | undefined> {
  let token: string | undefined;
  if (file) {
    const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (existing !== '') {
      if (!isTokenShaped(existing))
        throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
          what: `--admin-token-file ${file}`,
          reason: 'holds something that is not a ferry token (ferry_ + 43 base64url characters)',
        });
      token = existing;
    }
  }
  token ??= newToken();
  if (!(await db.tokens.createFirstAdmin(hashToken(token)))) return undefined;
  if (file) {
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    log(`ferry registry: first-start admin token written to ${file}`);
  } else log(`ferry registry: first-start admin token (shown once, store it now): ${token}`);
  return token;
}
