import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { isRegistryError, registryError } from '../../errors.js';
import type { ModelVersion } from '../../store/types.js';
import { checkLabel, checkSourceUri, parseModelName } from '@ferry/registry-client';
import { modelWith, requireScope, visibleModel } from '../access.js';
import { allows } from '../auth.js';
import { COMPAT_MATRIX } from '../compat-matrix.js';
import type { ApiContext } from '../context.js';
import { readableFor } from '../readable.js';
import { parseFilter } from './filter.js';
import { list, page, param, tags, versionNumber } from './request.js';
import { downloadUri, mlflowModel, mlflowVersion, STAGE_ALIASES } from './shapes.js';
import { trackingRoutes } from './tracking.js';

/** MLflow's stages, mapped onto aliases (docs/registry.md): Staging and Production are aliases. */
const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;

/** MLflow's error codes (mlflow/protos/databricks.proto ErrorCode) and the statuses its server sends. */
const MLFLOW_ERRORS: Record<string, [string, number]> = {
  FERRY_REGISTRY_NOT_FOUND: ['RESOURCE_DOES_NOT_EXIST', 404],
  FERRY_REGISTRY_UNAUTHORIZED: ['UNAUTHENTICATED', 401],
  FERRY_REGISTRY_FORBIDDEN: ['PERMISSION_DENIED', 403],
  FERRY_REGISTRY_RATE_LIMITED: ['REQUEST_LIMIT_EXCEEDED', 429],
  FERRY_REGISTRY_BACKEND: ['TEMPORARILY_UNAVAILABLE', 503],
};

/**
 * The MLflow Model Registry REST API subset (https://mlflow.org/docs/latest/rest-api.html),
 * under /api/2.0/mlflow/, with MLflow's JSON shapes and `{"error_code", "message"}` errors.
 */
export async function mlflowRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  const { db } = context;
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
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    // A refused endpoint of the compatibility matrix says why (and what to use instead).
    const refused = COMPAT_MATRIX.find((r) => r.api === 'MLflow' && r.path === path && r.note);
    return reply.code(404).send({
      error_code: 'ENDPOINT_NOT_FOUND',
      message: `${request.method} ${path} is not part of ferry's MLflow subset${refused ? ` (${refused.note})` : ''}`,
    });
  });

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

  const versionOf = async (request: FastifyRequest, scope: 'read' | 'write' | 'admin') => {
    const name =
      scope === 'read'
        ? await visibleModel(db, request.principal, param(request, 'name')!)
        : await modelWith(db, request.principal, param(request, 'name')!, scope);
    return { name, version: versionNumber(request) };
  };

  trackingRoutes(app, context);

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
      orderBy(request, {
        name: 'm.full_name',
        timestamp: 'm.updated_at',
        last_updated_timestamp: 'm.updated_at',
      }),
    );
    const latest = new Map((await db.versions.latest(models)).map((v) => [v.model, v]));
    const out = models.map((m) => mlflowModel(m, latest.get(m.name), base(request)));
    const next = paging.next(total);
    return { registered_models: out, ...(next && { next_page_token: next }) };
  };
  app.get('/registered-models/search', hide, searchModels);
  app.post('/registered-models/search', hide, searchModels);

  // Stages are aliases here: Staging and Production name the versions the aliases `staging` and
  // `production` point to, None the latest version; Archived holds nothing (ferry keeps no archive).
  const latestVersions = async (request: FastifyRequest) => {
    const name = await visibleModel(db, request.principal, param(request, 'name')!);
    const wanted = list(request, 'stages', 4).map(stageName);
    const out: ModelVersion[] = [];
    for (const stage of wanted.length === 0 ? (['None', 'Staging', 'Production'] as const) : wanted) {
      const alias = STAGE_ALIASES[stage as keyof typeof STAGE_ALIASES];
      const version =
        stage === 'None'
          ? await latestOf(name)
          : alias
            ? await db.aliases.get(name, alias).then((a) => a && db.versions.get(name, a.version))
            : undefined;
      if (version && !out.some((v) => v.version === version.version)) out.push(version);
    }
    return { model_versions: out.map((v) => mlflowVersion(v, base(request))) };
  };
  app.post('/registered-models/get-latest-versions', hide, latestVersions);
  app.get('/registered-models/get-latest-versions', hide, latestVersions);

  // transition-stage moves the stage's alias to the version (one alias names one version, so the
  // previous holder leaves the stage: archive_existing_versions is always true in effect).
  // None and Archived take the version out of Staging and Production.
  app.post('/model-versions/transition-stage', hide, async (request) => {
    const { name, version } = await versionOf(request, 'write');
    const stage = stageName(param(request, 'stage')!);
    const current = await db.versions.require(name, version);
    const admin = allows(request.principal, 'admin', name);
    const alias = STAGE_ALIASES[stage as keyof typeof STAGE_ALIASES];
    if (alias) await db.aliases.set(request.principal.user, name, alias, version, { allowProtected: admin });
    else
      for (const held of Object.values(STAGE_ALIASES))
        if (current.aliases.includes(held))
          await db.aliases.delete(request.principal.user, name, held, admin);
    return { model_version: mlflowVersion(await db.versions.require(name, version), base(request)) };
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
      orderBy(request, {
        name: 'm.full_name',
        version_number: 'v.version',
        creation_timestamp: 'v.created_at',
        timestamp: 'v.created_at',
        last_updated_timestamp: 'v.updated_at',
      }),
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

function stageName(text: string): (typeof STAGES)[number] {
  const stage = STAGES.find((s) => s.toLowerCase() === text.toLowerCase());
  if (!stage)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: `stage ${JSON.stringify(text.slice(0, 50))}`,
      reason: `one of ${STAGES.join(', ')}`,
    });
  return stage;
}

/** MLflow's order_by (`name ASC`, `version_number DESC`, `last_updated_timestamp`) onto columns. */
function orderBy(request: FastifyRequest, columns: Record<string, string>): string[] {
  return list(request, 'order_by', 5).map((term) => {
    const m = /^\s*([A-Za-z_]+)(?:\s+(ASC|DESC))?\s*$/i.exec(term);
    const column = m && columns[m[1]!.toLowerCase()];
    if (!column)
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: `order_by ${JSON.stringify(term.slice(0, 100))}`,
        reason: `expected one of ${Object.keys(columns).join(', ')}, then ASC or DESC`,
      });
    return `${column} ${m![2]?.toUpperCase() === 'DESC' ? 'DESC' : 'ASC'}`;
  });
}
