import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { registryError } from '../errors.js';
import { checkFilePath, checkLabel, checkSourceUri } from '@ferry/registry-client';
import { versionNode } from '../store/node-id.js';
import type { NewFile } from '../store/version-digest.js';
import { modelWith, visibleModel } from './access.js';
import { allows } from './auth.js';
import type { ApiContext } from './context.js';
import { inspectVersion } from './inspect-version.js';
import { parseRange } from './range.js';
import { resolveUri } from './resolve.js';
import { checkScanGate } from './scan-gate.js';
import { SCHEMAS } from '@ferry/registry-client';

type VersionParams = { model: string; version: number };
const versionParams = {
  type: 'object',
  properties: {
    model: { type: 'string', maxLength: 200 },
    version: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 },
  },
} as const;

interface CreateVersionBody {
  files: NewFile[];
  description?: string;
  sourceUri?: string;
  runId?: string;
  tags?: Record<string, string>;
  derivedFrom?: string[];
  idempotencyKey?: string;
}

export function versionRoutes(app: FastifyInstance, context: ApiContext): void {
  const { db, blobs } = context;
  app.get<{ Params: { model: string }; Querystring: { all?: boolean } }>(
    '/api/v1/models/:model/versions',
    {
      schema: {
        summary: 'List the ready versions of a model (all=true adds pending and failed ones)',
        tags: ['versions'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { all: { type: 'boolean' } },
        },
      },
    },
    async (request) => {
      const name = await visibleModel(db, request.principal, request.params.model);
      return { versions: await db.versions.list(name, { includePending: request.query.all === true }) };
    },
  );

  app.post<{ Params: { model: string }; Body: CreateVersionBody }>(
    '/api/v1/models/:model/versions',
    {
      schema: {
        summary: 'Start a version: declare its files; it stays pending (invisible) until committed',
        description:
          'Retries with the same idempotencyKey (or Idempotency-Key header) and the same files return the first version.',
        tags: ['versions'],
        body: SCHEMAS.createVersion,
      },
    },
    async (request, reply) => {
      const name = await modelWith(db, request.principal, request.params.model, 'write');
      const body = request.body;
      const seen = new Set<string>();
      for (const file of body.files) {
        checkFilePath(file.path);
        if (seen.has(file.path))
          throw registryError('FERRY_REGISTRY_BAD_PATH', { path: file.path, reason: 'listed twice' });
        seen.add(file.path);
      }
      for (const key of Object.keys(body.tags ?? {})) checkLabel('tag key', key);
      if (body.sourceUri) checkSourceUri('sourceUri', body.sourceUri);
      const derivedFrom: string[] = [];
      for (const uri of body.derivedFrom ?? []) {
        const source = await resolveUri(db, request.principal, uri);
        derivedFrom.push(versionNode(source.model, source.version));
      }
      if (body.runId && !(await db.runs.get(body.runId)))
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'run', name: body.runId });
      const header = request.headers['idempotency-key'];
      const idempotencyKey =
        body.idempotencyKey ?? (typeof header === 'string' ? header.slice(0, 200) : null);
      const { version, created } = await db.createVersion(request.principal.user, name, {
        files: body.files,
        description: body.description,
        sourceUri: body.sourceUri ?? null,
        runId: body.runId ?? null,
        tags: body.tags,
        derivedFrom,
        idempotencyKey,
      });
      const missing: string[] = [];
      for (const sha256 of new Set(body.files.map((f) => f.sha256)))
        if ((await blobs.stat(sha256)) === undefined) missing.push(sha256);
      return reply.code(created ? 201 : 200).send({ version, missing });
    },
  );

  app.get<{ Params: VersionParams }>(
    '/api/v1/models/:model/versions/:version',
    { schema: { summary: 'Show a version', tags: ['versions'], params: versionParams } },
    async (request) => {
      const name = await visibleModel(db, request.principal, request.params.model);
      return db.versions.require(name, request.params.version);
    },
  );

  app.post<{ Params: VersionParams }>(
    '/api/v1/models/:model/versions/:version/commit',
    {
      schema: {
        summary: 'Make a pending version ready once all its files are uploaded (scans and inspects them)',
        tags: ['versions'],
        params: versionParams,
      },
    },
    async (request) => {
      const name = await modelWith(db, request.principal, request.params.model, 'write');
      const version = await db.versions.require(name, request.params.version);
      if (version.status === 'ready') return version;
      if (version.status === 'failed')
        throw registryError('FERRY_REGISTRY_CONFLICT', {
          what: 'version',
          name: `${name}/${version.version}`,
          reason: 'failed; create a new version',
        });
      const missing: string[] = [];
      for (const file of version.files)
        if ((await blobs.stat(file.sha256)) !== file.size) missing.push(file.path);
      if (missing.length > 0)
        throw registryError('FERRY_REGISTRY_INCOMPLETE', {
          name,
          version: version.version,
          count: missing.length,
          paths: missing.slice(0, 5).join(', ') + (missing.length > 5 ? ', ...' : ''),
        });
      const inspection = await inspectVersion(context, version.files);
      return db.versions.finish(request.principal.user, name, version.version, {
        status: 'ready',
        ...inspection,
      });
    },
  );

  app.delete<{ Params: VersionParams }>(
    '/api/v1/models/:model/versions/:version',
    { schema: { summary: 'Delete a version (admin)', tags: ['versions'], params: versionParams } },
    async (request, reply) => {
      const name = await modelWith(db, request.principal, request.params.model, 'admin');
      await db.deleteVersion(request.principal.user, name, request.params.version);
      return reply.code(204).send();
    },
  );

  app.put<{ Params: VersionParams & { key: string }; Body: { value: string } }>(
    '/api/v1/models/:model/versions/:version/tags/:key',
    { schema: { summary: 'Set a version tag', tags: ['versions'], body: SCHEMAS.tagValue } },
    async (request) => {
      const name = await modelWith(db, request.principal, request.params.model, 'write');
      const version = Number(request.params.version);
      await db.versions.setTag(
        request.principal.user,
        name,
        version,
        checkLabel('tag key', request.params.key),
        request.body.value,
      );
      return db.versions.require(name, version);
    },
  );

  app.delete<{ Params: VersionParams & { key: string } }>(
    '/api/v1/models/:model/versions/:version/tags/:key',
    { schema: { summary: 'Delete a version tag', tags: ['versions'] } },
    async (request) => {
      const name = await modelWith(db, request.principal, request.params.model, 'write');
      const version = Number(request.params.version);
      await db.versions.setTag(
        request.principal.user,
        name,
        version,
        checkLabel('tag key', request.params.key),
        null,
      );
      return db.versions.require(name, version);
    },
  );

  app.get<{ Params: { model: string; alias: string } }>(
    '/api/v1/models/:model/aliases/:alias',
    { schema: { summary: 'Which version an alias points to', tags: ['aliases'] } },
    async (request) => {
      const name = await visibleModel(db, request.principal, request.params.model);
      const alias = await db.aliases.get(name, checkLabel('alias', request.params.alias));
      if (!alias)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', {
          what: 'alias',
          name: `${name}@${request.params.alias}`,
        });
      return alias;
    },
  );

  app.put<{ Params: { model: string; alias: string }; Body: { version: number; protected?: boolean } }>(
    '/api/v1/models/:model/aliases/:alias',
    {
      schema: {
        summary: 'Point an alias at a ready version (atomic; protected aliases need admin)',
        tags: ['aliases'],
        body: SCHEMAS.setAlias,
      },
    },
    async (request) => {
      const name = await modelWith(db, request.principal, request.params.model, 'write');
      const allowProtected = allows(request.principal, 'admin', name);
      return db.aliases.set(
        request.principal.user,
        name,
        checkLabel('alias', request.params.alias),
        request.body.version,
        {
          protect: request.body.protected,
          allowProtected,
        },
      );
    },
  );

  app.delete<{ Params: { model: string; alias: string } }>(
    '/api/v1/models/:model/aliases/:alias',
    { schema: { summary: 'Remove an alias', tags: ['aliases'] } },
    async (request, reply) => {
      const name = await modelWith(db, request.principal, request.params.model, 'write');
      const allowProtected = allows(request.principal, 'admin', name);
      await db.aliases.delete(
        request.principal.user,
        name,
        checkLabel('alias', request.params.alias),
        allowProtected,
      );
      return reply.code(204).send();
    },
  );

  const download = async (
    request: FastifyRequest<{ Params: VersionParams & { '*': string }; Querystring: { force?: boolean } }>,
    reply: FastifyReply,
  ) => {
    const name = await visibleModel(db, request.principal, request.params.model);
    const version = await db.versions.get(name, Number(request.params.version));
    if (version?.status !== 'ready')
      throw registryError('FERRY_REGISTRY_NOT_FOUND', {
        what: 'version',
        name: `${name}/${request.params.version}`,
      });
    const path = checkFilePath(request.params['*']);
    const file = version.files.find((f) => f.path === path);
    if (!file)
      throw registryError('FERRY_REGISTRY_NOT_FOUND', {
        what: 'file',
        name: `${name}/${version.version}/${path}`,
      });
    checkScanGate(name, version, request.query.force === true);
    const etag = `"${file.sha256}"`;
    reply
      .header('etag', etag)
      .header('accept-ranges', 'bytes')
      .header('content-type', 'application/octet-stream');
    reply.header('x-ferry-sha256', file.sha256);
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    const ifRange = request.headers['if-range'];
    const range =
      ifRange && ifRange !== etag
        ? undefined
        : parseRange(request.headers.range, file.size, `${name}/${version.version}/${path}`);
    if (range) {
      reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${file.size}`)
        .header('content-length', range.end - range.start + 1);
    } else reply.header('content-length', file.size);
    if (request.method === 'HEAD') return reply.send();
    return reply.send(await blobs.get(file.sha256, range));
  };
  const downloadSchema = {
    summary: 'Download a file of a ready version (Range, ETag, If-None-Match; HEAD for size and digest)',
    tags: ['transfers'],
    querystring: { type: 'object', additionalProperties: false, properties: { force: { type: 'boolean' } } },
  } as const;
  // HEAD is its own route: fastify's automatic HEAD would answer Content-Length: 0.
  app.get(
    '/api/v1/models/:model/versions/:version/files/*',
    { schema: downloadSchema, exposeHeadRoute: false },
    download,
  );
  app.head('/api/v1/models/:model/versions/:version/files/*', { schema: downloadSchema }, download);
}
