import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { isRegistryError, registryError } from '../../errors.js';
import { checkLabel, checkSourceUri, parseModelName } from '@ferry/registry-client';
import { modelWith, requireScope, visibleModel } from '../access.js';
import { allows } from '../auth.js';
import type { ApiContext } from '../context.js';
import { readableFor } from '../readable.js';
import { parseFilter } from './filter.js';
import { downloadUri, mlflowModel, mlflowVersion } from './shapes.js';

/** MLflow's error codes (mlflow/protos/databricks.proto ErrorCode) and the statuses its server sends. */
const MLFLOW_ERRORS: Record<string, [string, number]> = {
  FERRY_REGISTRY_NOT_FOUND: ['RESOURCE_DOES_NOT_EXIST', 404],
  FERRY_REGISTRY_UNAUTHORIZED: ['UNAUTHENTICATED', 401],
  FERRY_REGISTRY_FORBIDDEN: ['PERMISSION_DENIED', 403],
  FERRY_REGISTRY_RATE_LIMITED: ['REQUEST_LIMIT_EXCEEDED', 429],
  FERRY_REGISTRY_BACKEND: ['TEMPORARILY_UNAVAILABLE', 503],
};

const MAX_RESULTS = 1000;
const page = (request: FastifyRequest, fallback: number) => {
  const q = {
    ...(request.query as Record<string, unknown>),
    ...((request.body as Record<string, unknown>) ?? {}),
  };
  const limit = q.max_results === undefined ? fallback : Number(q.max_results);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RESULTS)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'max_results',
      reason: `must be 1 to ${MAX_RESULTS}`,
    });
  const token = q.page_token ? String(q.page_token) : '';
  const offset = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'page_token',
      reason: 'not a token this server issued',
    });
  return {
    limit,
    offset,
    next: (total: number) =>
      offset + limit < total ? Buffer.from(String(offset + limit)).toString('base64url') : undefined,
  };
};

/** Reads a parameter from the JSON body or the query string, as MLflow's server accepts both. */
function param(request: FastifyRequest, key: string, required = true): string | undefined {
  const body = (request.body as Record<string, unknown> | undefined) ?? {};
  const value = body[key] ?? (request.query as Record<string, unknown>)[key];
  if (value === undefined || value === null || value === '') {
    if (required)
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: key,
        reason: `missing value for required parameter '${key}'`,
      });
    return undefined;
  }
  if (typeof value !== 'string' && typeof value !== 'number')
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', { what: key, reason: 'must be a string' });
  return String(value);
}

function versionNumber(request: FastifyRequest): number {
  const text = param(request, 'version')!;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'version',
      reason: `${JSON.stringify(text)} is not a version number`,
    });
  return Number(text);
}

function tags(request: FastifyRequest): Record<string, string> {
  const list = ((request.body as Record<string, unknown> | undefined)?.tags ?? []) as unknown;
  if (!Array.isArray(list) || list.length > 1000)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'tags',
      reason: 'must be a list of {key, value}',
    });
  const out: Record<string, string> = {};
  for (const t of list as { key?: unknown; value?: unknown }[]) {
    if (typeof t?.key !== 'string' || (t.value !== undefined && typeof t.value !== 'string'))
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: 'tags',
        reason: 'each tag is {key: string, value: string}',
      });
    out[checkLabel('tag key', t.key)] = (t.value as string | undefined) ?? '';
  }
  return out;
}

/**
 * The MLflow Model Registry REST API subset (https://mlflow.org/docs/latest/rest-api.html),
 * under /api/2.0/mlflow/, with MLflow's JSON shapes and `{"error_code", "message"}` errors.
 */
export async function mlflowRoutes(app: FastifyInstance, { db }: ApiContext): Promise<void> {
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    let code = 'INVALID_PARAMETER_VALUE';
    let status = 400;
    let message = error.message;
    if (isRegistryError(error)) {
      [code, status] =
        MLFLOW_ERRORS[error.code] ??
        (error.code === 'FERRY_REGISTRY_CONFLICT' && /already exists/.test(error.message)
          ? ['RESOURCE_ALREADY_EXISTS', 400]
          : error.http >= 500
            ? ['INTERNAL_ERROR', 500]
            : ['INVALID_PARAMETER_VALUE', 400]);
    } else if (!error.validation && !(error.statusCode && error.statusCode < 500)) {
      [code, status, message] = ['INTERNAL_ERROR', 500, error.message];
    }
    if (code === 'REQUEST_LIMIT_EXCEEDED') reply.header('retry-after', '60');
    return reply.code(status).send({ error_code: code, message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error_code: 'ENDPOINT_NOT_FOUND',
      message: `${request.method} ${request.url.split('?')[0]} is not part of ferry's MLflow subset`,
    }),
  );

  const base = (request: FastifyRequest) => `${request.protocol}://${request.host}`;
  const hide = { schema: { tags: ['mlflow'] } };
  const latestOf = async (name: string) => {
    const m = await db.models.get(name);
    return m?.latestVersion ? db.versions.get(name, m.latestVersion) : undefined;
  };
  const modelOut = async (request: FastifyRequest, name: string) => {
    const m = (await db.models.get(name))!;
    return mlflowModel(m, await latestOf(name), base(request));
  };

  // --- registered models ---
  app.post('/registered-models/create', hide, async (request) => {
    const name = parseModelName(param(request, 'name')!).full;
    requireScope(request.principal, 'write', name);
    const description = param(request, 'description', false);
    await db.models.create(request.principal.user, {
      name,
      tags: tags(request),
      ...(description && { description }),
    });
    return { registered_model: await modelOut(request, name) };
  });

  app.get('/registered-models/get', hide, async (request) => {
    const name = await visibleModel(db, request.principal, param(request, 'name')!);
    return { registered_model: await modelOut(request, name) };
  });

  app.post('/registered-models/rename', hide, async (request) => {
    const name = await modelWith(db, request.principal, param(request, 'name')!, 'admin');
    const to = parseModelName(param(request, 'new_name')!).full;
    requireScope(request.principal, 'admin', to);
    await db.renameModel(request.principal.user, name, to);
    return { registered_model: await modelOut(request, to) };
  });

  app.patch('/registered-models/update', hide, async (request) => {
    const name = await modelWith(db, request.principal, param(request, 'name')!, 'write');
    const description = param(request, 'description', false);
    await db.models.update(request.principal.user, name, { description: description ?? '' });
    return { registered_model: await modelOut(request, name) };
  });

  app.delete('/registered-models/delete', hide, async (request) => {
    const name = await modelWith(db, request.principal, param(request, 'name')!, 'admin');
    await db.deleteModel(request.principal.user, name);
    return {};
  });

  const searchModels = async (request: FastifyRequest) => {
    const paging = page(request, 100);
    const filter = param(request, 'filter', false);
    const { models, total } = await db.models.search(
      parseFilter(filter, 'models'),
      readableFor(request.principal),
      paging,
    );
    const latest = new Map((await db.versions.latest(models)).map((v) => [v.model, v]));
    const out = models.map((m) => mlflowModel(m, latest.get(m.name), base(request)));
    const next = paging.next(total);
    return { registered_models: out, ...(next && { next_page_token: next }) };
  };
  app.get('/registered-models/search', hide, searchModels);
  app.post('/registered-models/search', hide, searchModels);

  app.post('/registered-models/get-latest-versions', hide, async (request) => {
    const name = await visibleModel(db, request.principal, param(request, 'name')!);
    const stages = ((request.body as { stages?: unknown })?.stages ?? []) as unknown;
    if (!Array.isArray(stages))
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', { what: 'stages', reason: 'must be a list' });
    // ferry has aliases, not stages: every version is in stage "None".
    const latest = await latestOf(name);
    const wanted = stages.length === 0 || stages.some((s) => String(s).toLowerCase() === 'none');
    return { model_versions: latest && wanted ? [mlflowVersion(latest, base(request))] : [] };
  });

  app.post('/registered-models/set-tag', hide, async (request) => {
    const name = await modelWith(db, request.principal, param(request, 'name')!, 'write');
    await db.models.setTag(
      request.principal.user,
      name,
      checkLabel('tag key', param(request, 'key')!),
      param(request, 'value', false) ?? '',
    );
    return {};
  });

  app.delete('/registered-models/delete-tag', hide, async (request) => {
    const name = await modelWith(db, request.principal, param(request, 'name')!, 'write');
    await db.models.setTag(request.principal.user, name, checkLabel('tag key', param(request, 'key')!), null);
    return {};
  });

  app.post('/registered-models/alias', hide, async (request) => {
    const name = await modelWith(db, request.principal, param(request, 'name')!, 'write');
    await db.aliases.set(
      request.principal.user,
      name,
      checkLabel('alias', param(request, 'alias')!),
      versionNumber(request),
      { allowProtected: allows(request.principal, 'admin', name) },
    );
    return {};
  });

  app.delete('/registered-models/alias', hide, async (request) => {
    const name = await modelWith(db, request.principal, param(request, 'name')!, 'write');
    await db.aliases.delete(
      request.principal.user,
      name,
      checkLabel('alias', param(request, 'alias')!),
      allows(request.principal, 'admin', name),
    );
    return {};
  });

  app.get('/registered-models/alias', hide, async (request) => {
    const name = await visibleModel(db, request.principal, param(request, 'name')!);
    const aliasName = checkLabel('alias', param(request, 'alias')!);
    const alias = await db.aliases.get(name, aliasName);
    if (!alias)
      throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'alias', name: `${name}@${aliasName}` });
    return { model_version: mlflowVersion(await db.versions.require(name, alias.version), base(request)) };
  });

  // --- model versions ---
  app.post('/model-versions/create', hide, async (request) => {
    const name = await modelWith(db, request.principal, param(request, 'name')!, 'write');
    const source = checkSourceUri('source', param(request, 'source')!);
    const runId = param(request, 'run_id', false);
    const description = param(request, 'description', false);
    // An MLflow client registers a source it stored elsewhere: the version has no files to
    // upload, so it is ready at once (MLflow's own server does the same).
    const { version } = await db.createVersion(request.principal.user, name, {
      files: [],
      sourceUri: source,
      runId: runId ?? null,
      tags: tags(request),
      ...(description && { description }),
    });
    const ready = await db.versions.finish(request.principal.user, name, version.version, {
      status: 'ready',
      formats: {},
      inspect: null,
      scan: 'unknown',
      scanDetail: null,
    });
    return { model_version: mlflowVersion(ready, base(request)) };
  });

  const versionOf = async (request: FastifyRequest, scope: 'read' | 'write' | 'admin') => {
    const name =
      scope === 'read'
        ? await visibleModel(db, request.principal, param(request, 'name')!)
        : await modelWith(db, request.principal, param(request, 'name')!, scope);
    return { name, version: versionNumber(request) };
  };

  app.get('/model-versions/get', hide, async (request) => {
    const { name, version } = await versionOf(request, 'read');
    return { model_version: mlflowVersion(await db.versions.require(name, version), base(request)) };
  });

  app.patch('/model-versions/update', hide, async (request) => {
    const { name, version } = await versionOf(request, 'write');
    const description = param(request, 'description', false);
    return {
      model_version: mlflowVersion(
        await db.versions.update(request.principal.user, name, version, { description: description ?? '' }),
        base(request),
      ),
    };
  });

  app.delete('/model-versions/delete', hide, async (request) => {
    const { name, version } = await versionOf(request, 'admin');
    await db.deleteVersion(request.principal.user, name, version);
    return {};
  });

  const searchVersions = async (request: FastifyRequest) => {
    const paging = page(request, 1000);
    const { versions, total } = await db.versions.search(
      parseFilter(param(request, 'filter', false), 'versions'),
      readableFor(request.principal),
      paging,
    );
    const next = paging.next(total);
    return {
      model_versions: versions.map((v) => mlflowVersion(v, base(request))),
      ...(next && { next_page_token: next }),
    };
  };
  app.get('/model-versions/search', hide, searchVersions);
  app.post('/model-versions/search', hide, searchVersions);

  app.get('/model-versions/get-download-uri', hide, async (request) => {
    const { name, version } = await versionOf(request, 'read');
    return { artifact_uri: downloadUri(await db.versions.require(name, version), base(request)) };
  });

  app.post('/model-versions/set-tag', hide, async (request) => {
    const { name, version } = await versionOf(request, 'write');
    await db.versions.setTag(
      request.principal.user,
      name,
      version,
      checkLabel('tag key', param(request, 'key')!),
      param(request, 'value', false) ?? '',
    );
    return {};
  });

  app.delete('/model-versions/delete-tag', hide, async (request) => {
    const { name, version } = await versionOf(request, 'write');
    await db.versions.setTag(
      request.principal.user,
      name,
      version,
      checkLabel('tag key', param(request, 'key')!),
      null,
    );
    return {};
  });
}
