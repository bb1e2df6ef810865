import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isRegistryError, registryError } from '../../errors.js';
import { parseModelName } from '@ferry/registry-client';
import type { Condition } from '../../store/search.js';
import type { Model, ModelVersion } from '../../store/types.js';
import { modelWith, requireScope } from '../access.js';
import type { ApiContext } from '../context.js';
import { readableFor } from '../readable.js';
import { commitOf } from './entries.js';
import { HubError } from './hub-error.js';

/** Models per listing page (the Hub caps `limit` at 1000 too). */
export const MAX_HUB_LIST = 1000;

/** The Hub's sort keys onto model columns; downloads, likes and trending are 0 in ferry (ties, by id). */
const SORTS: Record<string, string> = {
  id: 'm.full_name',
  modelId: 'm.full_name',
  lastModified: 'm.updated_at',
  createdAt: 'm.created_at',
  downloads: 'm.full_name',
  likes: 'm.full_name',
  trendingScore: 'm.full_name',
};

/** The account and repository half of the Hub API: whoami-v2, repos/create|delete, model listing. */
export function accountRoutes(app: FastifyInstance, { db }: ApiContext): void {
  const tags = { schema: { tags: ['hub'] } };
  const base = (request: FastifyRequest) => `${request.protocol}://${request.host}`;

  app.get('/api/whoami-v2', tags, async (request) => {
    if (request.principal.anonymous)
      throw registryError('FERRY_REGISTRY_UNAUTHORIZED', {
        reason: 'whoami needs a token (Authorization: Bearer hf_ferry_...)',
      });
    const { user, grants } = request.principal;
    const role = grants.some((g) => g.scope !== 'read') ? 'write' : 'read';
    // A grant on `team/*` is what an organization is to the Hub.
    const orgs = grants
      .filter((g) => g.resource.endsWith('/*'))
      .map((g) => ({
        type: 'org',
        name: g.resource.slice(0, -2),
        fullname: g.resource.slice(0, -2),
        roleInOrg: g.scope,
      }));
    return {
      type: 'user',
      id: user,
      name: user,
      fullname: user,
      email: null,
      emailVerified: false,
      canPay: false,
      isPro: false,
      periodEnd: null,
      avatarUrl: '',
      orgs,
      auth: { type: 'access_token', accessToken: { displayName: `ferry token of ${user}`, role } },
    };
  });

  const repoName = (request: FastifyRequest) => {
    const body = (request.body ?? {}) as { name?: unknown; organization?: unknown; type?: unknown };
    if (body.type !== undefined && body.type !== 'model')
      throw new HubError('BadRequest', `ferry holds model repositories only, not ${String(body.type)}s`);
    if (
      typeof body.name !== 'string' ||
      (body.organization !== undefined && typeof body.organization !== 'string')
    )
      throw new HubError('BadRequest', 'name (and organization) must be strings');
    const namespace = (body.organization as string | undefined) ?? request.principal.user;
    return parseModelName(`${namespace}/${body.name}`).full;
  };

  app.post('/api/repos/create', tags, async (request, reply) => {
    const body = (request.body ?? {}) as { private?: unknown; visibility?: unknown; files?: unknown };
    const name = repoName(request);
    requireScope(request.principal, 'write', name);
    if (body.files !== undefined)
      throw new HubError(
        'BadRequest',
        'files at creation are not supported: create the repo, then commit them',
      );
    const isPrivate = body.visibility === 'private' || body.private === true;
    try {
      await db.models.create(request.principal.user, { name, visibility: isPrivate ? 'private' : 'public' });
    } catch (error) {
      if (isRegistryError(error) && error.code === 'FERRY_REGISTRY_CONFLICT')
        throw new HubError('Conflict', `You already created this model repo: ${name}`);
      throw error;
    }
    return reply.code(200).send({ url: `${base(request)}/${name}`, name, id: name });
  });

  app.delete('/api/repos/delete', tags, async (request) => {
    const name = await modelWith(db, request.principal, repoName(request), 'admin').catch((error) => {
      if (isRegistryError(error) && error.code === 'FERRY_REGISTRY_NOT_FOUND')
        throw new HubError('RepoNotFound', `Repository not found: ${repoName(request)}`);
      throw error;
    });
    await db.deleteModel(request.principal.user, name);
    return {};
  });

  app.get<{ Querystring: Record<string, string | string[]> }>('/api/models', tags, async (request, reply) => {
    const q = request.query;
    const one = (key: string) => {
      const v = q[key];
      return Array.isArray(v) ? v[v.length - 1] : v;
    };
    const all = (key: string) => {
      const v = q[key];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    };
    const limit = one('limit') === undefined ? MAX_HUB_LIST : Number(one('limit'));
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HUB_LIST)
      throw new HubError('BadRequest', `limit must be 1 to ${MAX_HUB_LIST}`);
    const cursor = one('cursor');
    const offset = cursor ? Number(Buffer.from(cursor, 'base64url').toString()) : 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new HubError('BadRequest', 'not a cursor this server issued');
    const conditions: Condition[] = [];
    const author = one('author');
    if (author) conditions.push({ field: 'name', op: 'LIKE', value: `${author.replace(/[%_\\]/g, '')}/%` });
    const search = one('search');
    if (search) conditions.push({ field: 'name', op: 'ILIKE', value: `%${search.replace(/[%_\\]/g, '')}%` });
    // filter=KEY or KEY:VALUE matches the model's tags (ferry tags are key/value pairs).
    for (const f of all('filter')) {
      const colon = f.indexOf(':');
      conditions.push(
        colon < 0
          ? { field: 'tag', key: f, op: 'LIKE', value: '%' }
          : { field: 'tag', key: f.slice(0, colon), op: '=', value: f.slice(colon + 1) },
      );
    }
    for (const unsupported of ['pipeline_tag', 'inference_provider', 'apps', 'library', 'language'])
      if (one(unsupported) !== undefined)
        throw new HubError(
          'BadRequest',
          `${unsupported} is not a filter ferry keeps; use author, search or filter`,
        );
    const sort = one('sort');
    if (sort !== undefined && !SORTS[sort])
      throw new HubError('BadRequest', `sort must be one of ${Object.keys(SORTS).join(', ')}`);
    const direction = one('direction') === '1' ? 'ASC' : 'DESC';
    const order = sort
      ? [
          `${SORTS[sort]} ${sort === 'id' || sort === 'modelId' ? (one('direction') === '-1' ? 'DESC' : 'ASC') : direction}`,
        ]
      : [];
    const { models, total } = await db.models.search(
      conditions,
      readableFor(request.principal),
      { limit, offset },
      order,
    );
    const latest = new Map((await db.versions.latest(models)).map((v) => [v.model, v]));
    if (offset + limit < total) {
      const next = new URL(request.url, base(request));
      next.searchParams.set('cursor', Buffer.from(String(offset + limit)).toString('base64url'));
      reply.header('link', `<${next.toString()}>; rel="next"`);
    }
    return models.map((m) => listed(m, latest.get(m.name)));
  });
}

/** A model as the Hub lists it (the fields huggingface.js and huggingface_hub read). */
function listed(m: Model, latest: ModelVersion | undefined) {
  return {
    _id: m.name,
    id: m.name,
    modelId: m.name,
    author: m.namespace,
    private: m.visibility === 'private',
    gated: false,
    disabled: false,
    downloads: 0,
    likes: 0,
    tags: Object.entries(m.tags).map(([k, v]) => (v ? `${k}:${v}` : k)),
    createdAt: m.createdAt,
    lastModified: latest?.updatedAt ?? m.updatedAt,
    ...(latest && { sha: commitOf(latest), siblings: latest.files.map((f) => ({ rfilename: f.path })) }),
  };
}
