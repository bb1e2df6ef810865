import { createHash } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isRegistryError, registryError } from '../../errors.js';
import { checkFilePath } from '@ferry/registry-client';
import type { ModelVersion } from '../../store/types.js';
import { visibleModel } from '../access.js';
import { parseCard } from '../card.js';
import type { ApiContext } from '../context.js';
import { parseRange } from '../range.js';
import { checkScanGate } from '../scan-gate.js';
import { commitOf, pathEntry, treeEntries } from './entries.js';
import { accountRoutes } from './account.js';
import { HubError } from './hub-error.js';
import { uploadRoutes } from './upload.js';

/** Entries per tree page (the Hub pages its tree listings the same way, with a Link header). */
export const MAX_TREE_PAGE = 1000;
/** Paths in one paths-info request. */
export const MAX_PATHS_INFO = 1000;

type Repo = { ns: string; name: string };
type RevParams = Repo & { rev: string };

/**
 * The download half of the Hugging Face Hub HTTP API (huggingface_hub / @huggingface/hub clients
 * pointed at ferry with HF_ENDPOINT or hubUrl): model info, tree, paths-info and resolve.
 * A revision is a version number, an alias, `main`/`HEAD` (the latest ready version) or a prefix
 * of a version's digest (its commit id).
 */
export async function hubRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  const { db, blobs } = context;
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 1024 * 1024 },
    (_request, body, done) => {
      const form = new URLSearchParams(body as string);
      done(null, {
        paths: form.getAll('paths'),
        expand: form.get('expand') === 'true' || form.get('expand') === 'True',
      });
    },
  );

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error instanceof HubError)
      return reply
        .code(error.status)
        .header('x-error-code', error.hubCode)
        .header('x-error-message', error.message)
        .send({ error: error.message });
    const status = isRegistryError(error) ? error.http : error.validation ? 400 : (error.statusCode ?? 500);
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="ferry"');
    if (isRegistryError(error) && error.code === 'FERRY_REGISTRY_RATE_LIMITED')
      reply.header('retry-after', '60');
    // HTTP headers carry Latin-1 only; the body keeps the whole message.
    return reply
      .code(status)
      .header('x-error-message', error.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 500))
      .send({ error: error.message });
  });

  const repoOf = async (request: FastifyRequest<{ Params: Repo }>) => {
    try {
      return await visibleModel(db, request.principal, `${request.params.ns}/${request.params.name}`);
    } catch (error) {
      if (
        isRegistryError(error) &&
        (error.code === 'FERRY_REGISTRY_NOT_FOUND' || error.code === 'FERRY_REGISTRY_BAD_NAME')
      )
        throw new HubError(
          'RepoNotFound',
          `Repository not found: ${request.params.ns}/${request.params.name}`,
        );
      throw error;
    }
  };

  const versionAt = async (model: string, rev: string): Promise<ModelVersion> => {
    let number: number | undefined;
    if (rev === 'main' || rev === 'HEAD') {
      const main = await db.aliases.get(model, 'main');
      number = main?.version ?? (await db.models.get(model))?.latestVersion ?? undefined;
    } else if (/^\d{1,9}$/.test(rev)) number = Number(rev);
    else {
      if (/^[A-Za-z][A-Za-z0-9._-]{0,63}$/.test(rev)) number = (await db.aliases.get(model, rev))?.version;
      number ??= await db.versions.findByDigest(model, rev.toLowerCase());
    }
    const version = number === undefined ? undefined : await db.versions.get(model, number);
    if (version?.status !== 'ready') throw new HubError('RevisionNotFound', `Invalid rev id: ${rev}`);
    return version;
  };

  const commit = (v: ModelVersion) => ({
    id: commitOf(v),
    title: v.description || `ferry version ${v.version}`,
    date: v.createdAt,
  });

  const info = async (request: FastifyRequest<{ Params: Repo }>, rev: string) => {
    const model = await repoOf(request);
    const m = (await db.models.get(model))!;
    // A repo just created has no version yet: the Hub answers its info with no sha and no files
    // (huggingface_hub's create_repo then repo_info), so main on an empty model does too.
    const empty = (rev === 'main' || rev === 'HEAD') && m.latestVersion === null && !m.aliases.main;
    const version = empty ? undefined : await versionAt(model, rev);
    const cardText = await db.models.getCard(model);
    const card = cardText ? parseCard(cardText).metadata : undefined;
    return {
      _id: (version ? commitOf(version) : createHash('sha1').update(model).digest('hex')).slice(0, 24),
      id: model,
      modelId: model,
      author: m.namespace,
      ...(version && { sha: commitOf(version) }),
      lastModified: version?.updatedAt ?? m.updatedAt,
      createdAt: m.createdAt,
      private: m.visibility === 'private',
      disabled: false,
      gated: false,
      downloads: 0,
      likes: 0,
      tags: [
        ...(Array.isArray(card?.tags) ? (card.tags as unknown[]).map(String) : []),
        ...Object.entries(m.tags).map(([k, v]) => (v ? `${k}:${v}` : k)),
      ],
      ...(typeof card?.pipeline_tag === 'string' && { pipeline_tag: card.pipeline_tag }),
      ...(typeof card?.library_name === 'string' && { library_name: card.library_name }),
      ...(card && { cardData: card }),
      siblings: (version?.files ?? []).map((f) => ({ rfilename: f.path })),
      usedStorage: (version?.files ?? []).reduce((sum, f) => sum + f.size, 0),
      spaces: [],
    };
  };

  const tags = { schema: { tags: ['hub'] } };
  app.get<{ Params: Repo }>('/api/models/:ns/:name', tags, (request) => info(request, 'main'));
  app.get<{ Params: RevParams }>('/api/models/:ns/:name/revision/:rev', tags, (request) =>
    info(request, request.params.rev),
  );

  const tree = async (
    request: FastifyRequest<{ Params: RevParams & { '*'?: string }; Querystring: Record<string, string> }>,
    reply: FastifyReply,
  ) => {
    const model = await repoOf(request);
    const version = await versionAt(model, request.params.rev);
    const prefix = (request.params['*'] ?? '').replace(/\/+$/, '');
    if (prefix !== '') checkFilePath(prefix);
    const q = request.query;
    const expand = q.expand === 'true' || q.expand === 'True';
    const entries = treeEntries(
      version,
      prefix,
      q.recursive === 'true' || q.recursive === 'True',
      expand ? commit(version) : undefined,
    );
    if (!entries) throw new HubError('EntryNotFound', `${prefix} does not exist on "${request.params.rev}"`);
    const limit = Math.min(MAX_TREE_PAGE, Math.max(1, Number(q.limit ?? MAX_TREE_PAGE) || MAX_TREE_PAGE));
    const offset = q.cursor ? Number(Buffer.from(q.cursor, 'base64url').toString()) : 0;
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: 'cursor',
        reason: 'not a cursor this server issued',
      });
    if (offset + limit < entries.length) {
      const next = new URL(request.url, `${request.protocol}://${request.host}`);
      next.searchParams.set('cursor', Buffer.from(String(offset + limit)).toString('base64url'));
      reply.header('link', `<${next.toString()}>; rel="next"`);
    }
    return entries.slice(offset, offset + limit);
  };
  app.get('/api/models/:ns/:name/tree/:rev', tags, tree);
  app.get('/api/models/:ns/:name/tree/:rev/*', tags, tree);

  app.post<{ Params: RevParams; Body: { paths?: unknown; expand?: unknown } }>(
    '/api/models/:ns/:name/paths-info/:rev',
    tags,
    async (request) => {
      const model = await repoOf(request);
      const version = await versionAt(model, request.params.rev);
      const paths = request.body?.paths;
      if (!Array.isArray(paths) || paths.length > MAX_PATHS_INFO || paths.some((p) => typeof p !== 'string'))
        throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
          what: 'paths',
          reason: `a list of up to ${MAX_PATHS_INFO} strings`,
        });
      const expand = request.body.expand === true || request.body.expand === 'true';
      return (paths as string[])
        .map((p) => pathEntry(version, p.replace(/\/+$/, ''), expand ? commit(version) : undefined))
        .filter((e) => e !== undefined);
    },
  );

  const resolve = async (
    request: FastifyRequest<{ Params: RevParams & { '*': string } }>,
    reply: FastifyReply,
  ) => {
    const model = await repoOf(request);
    const version = await versionAt(model, request.params.rev);
    const path = request.params['*'];
    const file = version.files.find((f) => f.path === path);
    if (!file) throw new HubError('EntryNotFound', `${path} does not exist on "${request.params.rev}"`);
    // The Hub API has no force: only a version the scan showed safe is served.
    checkScanGate(model, version, false);
    const etag = `"${file.sha256}"`;
    reply
      .header('x-repo-commit', commitOf(version))
      .header('etag', etag)
      .header('x-linked-etag', etag)
      .header('x-linked-size', file.size)
      .header('accept-ranges', 'bytes')
      .header('content-type', 'application/octet-stream')
      .header(
        'content-disposition',
        `inline; filename*=UTF-8''${encodeURIComponent(path.split('/').pop()!)}`,
      );
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    const range = parseRange(request.headers.range, file.size, `${model}/${path}`);
    if (range)
      reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${file.size}`)
        .header('content-length', range.end - range.start + 1);
    else reply.header('content-length', file.size);
    if (request.method === 'HEAD') return reply.send();
    return reply.send(await blobs.get(file.sha256, range));
  };
  app.get('/:ns/:name/resolve/:rev/*', { ...tags, exposeHeadRoute: false }, resolve);
  app.head('/:ns/:name/resolve/:rev/*', tags, resolve);
  // raw/ is git's view of a file; ferry keeps no LFS pointers, so it serves the content as resolve/
  // does (fileExists sends HEAD raw/).
  app.get('/:ns/:name/raw/:rev/*', { ...tags, exposeHeadRoute: false }, resolve);
  app.head('/:ns/:name/raw/:rev/*', tags, resolve);

  accountRoutes(app, context);
  await uploadRoutes(app, context, { repoOf });
}
