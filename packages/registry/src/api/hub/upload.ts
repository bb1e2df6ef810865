import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkFilePath, checkLabel } from '@ferry/registry-client';
import { registryError } from '../../errors.js';
import { MAX_FILE_BYTES, MAX_OPEN_UPLOADS_PER_USER } from '../../limits.js';
import { type ByteStream, SHA256_HEX } from '../../store/blob-store.js';
import type { NewFile } from '../../store/version-digest.js';
import type { ModelVersion } from '../../store/types.js';
import { requireScope } from '../access.js';
import { allows } from '../auth.js';
import type { ApiContext } from '../context.js';
import { inspectVersion } from '../inspect-version.js';
import { commitOf } from './entries.js';
import { HubError } from './hub-error.js';

/**
 * Largest file the preupload step sends inline (base64 in the NDJSON commit); larger ones, and
 * binary ones, go through LFS. The Hub draws the line at 10 MB; ferry at 1 MiB keeps commit bodies small.
 */
export const MAX_HUB_INLINE_BYTES = 1024 * 1024;
/** An NDJSON commit body: inline files are at most MAX_HUB_INLINE_BYTES each, base64 (4/3). */
export const MAX_HUB_COMMIT_BYTES = 64 * 1024 * 1024;
/** Operations in one commit (the Hub's clients send at most this many per preupload call too). */
export const MAX_HUB_COMMIT_OPERATIONS = 10_000;
/** Objects in one LFS batch request (huggingface.js sends 100 at a time). */
export const MAX_LFS_BATCH = 1000;
/** How long an LFS upload URL is said to last (the session expires with abandoned uploads). */
const LFS_EXPIRES_S = 3600;

type Repo = { ns: string; name: string };
type RevParams = Repo & { rev: string };
export interface RepoLookup {
  repoOf(request: FastifyRequest<{ Params: Repo }>): Promise<string>;
}

const lfsJson = 'application/vnd.git-lfs+json';

/**
 * The upload half of the Hub API, as huggingface_hub and @huggingface/hub drive it: preupload
 * (which files go inline, which through LFS), the LFS batch API with basic transfer (each upload
 * URL is a capability: an upload session id; the bytes are kept only if their sha256 is the oid),
 * and the NDJSON commit, which makes a new ferry version from the parent revision's files plus the
 * commit's changes, inspected and scanned as a push is, with the commit message as its description.
 */
export async function uploadRoutes(
  app: FastifyInstance,
  context: ApiContext,
  { repoOf }: RepoLookup,
): Promise<void> {
  const { db, blobs } = context;
  const tags = { schema: { tags: ['hub'] } };
  const base = (request: FastifyRequest) => `${request.protocol}://${request.host}`;
  app.addContentTypeParser(lfsJson, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser(
    'application/x-ndjson',
    { parseAs: 'string', bodyLimit: MAX_HUB_COMMIT_BYTES },
    (_request, body, done) => done(null, { ndjson: body }),
  );

  const writableRepo = async (request: FastifyRequest<{ Params: Repo }>) => {
    const model = await repoOf(request);
    requireScope(request.principal, 'write', model);
    return model;
  };

  app.post<{ Params: RevParams; Body: { files?: unknown } }>(
    '/api/models/:ns/:name/preupload/:rev',
    tags,
    async (request) => {
      await writableRepo(request);
      const files = request.body?.files;
      if (!Array.isArray(files) || files.length > MAX_HUB_COMMIT_OPERATIONS)
        throw new HubError(
          'BadRequest',
          `files must be a list of up to ${MAX_HUB_COMMIT_OPERATIONS} {path, size, sample}`,
        );
      return {
        files: (files as { path?: unknown; size?: unknown; sample?: unknown }[]).map((f) => {
          if (typeof f?.path !== 'string' || typeof f.size !== 'number')
            throw new HubError('BadRequest', 'each file is {path: string, size: number, sample: base64}');
          checkFilePath(f.path);
          const sample = typeof f.sample === 'string' ? Buffer.from(f.sample, 'base64') : Buffer.alloc(0);
          // The Hub's rule too: big or binary (a NUL byte in the first 512 bytes) goes through LFS.
          const lfs = f.size > MAX_HUB_INLINE_BYTES || sample.includes(0);
          return { path: f.path, uploadMode: lfs ? 'lfs' : 'regular', shouldIgnore: false };
        }),
      };
    },
  );

  app.post<{ Params: { ns: string; repo: string }; Body: Record<string, unknown> }>(
    '/:ns/:repo/info/lfs/objects/batch',
    tags,
    async (request, reply) => {
      if (!request.params.repo.endsWith('.git'))
        throw new HubError(
          'RepoNotFound',
          `Repository not found: ${request.params.ns}/${request.params.repo}`,
        );
      const params = { ns: request.params.ns, name: request.params.repo.slice(0, -4) };
      await writableRepo({ ...request, params } as FastifyRequest<{ Params: Repo }>);
      const body = request.body ?? {};
      if (body.operation !== 'upload')
        throw new HubError('BadRequest', 'ferry takes LFS uploads only (operation: upload)');
      const transfers = Array.isArray(body.transfers) ? body.transfers : ['basic'];
      if (!transfers.includes('basic'))
        throw new HubError('BadRequest', 'ferry speaks the basic LFS transfer only');
      const objects = body.objects;
      if (!Array.isArray(objects) || objects.length > MAX_LFS_BATCH)
        throw new HubError('BadRequest', `objects must be a list of up to ${MAX_LFS_BATCH} {oid, size}`);
      const out = [];
      for (const o of objects as { oid?: unknown; size?: unknown }[]) {
        if (
          typeof o?.oid !== 'string' ||
          !SHA256_HEX.test(o.oid) ||
          !Number.isSafeInteger(o.size) ||
          (o.size as number) < 0
        )
          throw new HubError('BadRequest', 'each object is {oid: sha256 hex, size: bytes}');
        const size = o.size as number;
        if (size > MAX_FILE_BYTES)
          out.push({
            oid: o.oid,
            size,
            error: { code: 413, message: `larger than ${MAX_FILE_BYTES} bytes` },
          });
        else if ((await blobs.stat(o.oid)) === size) out.push({ oid: o.oid, size, authenticated: true });
        else {
          if ((await db.uploads.countOpen(request.principal.user)) >= MAX_OPEN_UPLOADS_PER_USER)
            throw registryError('FERRY_REGISTRY_CONFLICT', {
              what: 'user',
              name: request.principal.user,
              reason: `holds ${MAX_OPEN_UPLOADS_PER_USER} unfinished uploads (MAX_OPEN_UPLOADS_PER_USER)`,
            });
          const id = randomUUID();
          await db.uploads.create(request.principal.user, id, await blobs.startUpload(id));
          out.push({
            oid: o.oid,
            size,
            authenticated: true,
            actions: {
              upload: {
                href: `${base(request)}/api/hub-lfs/${id}/${o.oid}/${size}`,
                expires_in: LFS_EXPIRES_S,
              },
            },
          });
        }
      }
      return reply
        .header('content-type', lfsJson)
        .send({ transfer: 'basic', objects: out, hash_algo: 'sha256' });
    },
  );

  // The LFS PUT carries no Authorization (huggingface.js sends none: the Hub's URLs are presigned),
  // so the upload session id in the URL is the credential; the bytes must hash to the oid.
  await app.register(async (scope) => {
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.put<{ Params: { id: string; oid: string; size: string } }>(
      '/api/hub-lfs/:id/:oid/:size',
      tags,
      async (request, reply) => {
        const { id, oid } = request.params;
        const size = Number(request.params.size);
        const upload = /^[0-9a-f-]{36}$/.test(id) ? await db.uploads.get(id) : undefined;
        if (!upload || !SHA256_HEX.test(oid) || !Number.isSafeInteger(size))
          throw new HubError('EntryNotFound', 'unknown or expired LFS upload URL');
        const state = upload.state as Record<string, string>;
        try {
          await blobs.put(request.body as ByteStream, { sha256: oid, size });
        } finally {
          // One try per URL: a failed upload asks the batch API for a new one, as git-lfs does.
          await blobs.abortUpload(state).catch(() => undefined);
          await db.uploads.delete(id);
        }
        return reply.code(200).send();
      },
    );
  });

  app.post<{ Params: RevParams; Body: { ndjson?: string } }>(
    '/api/models/:ns/:name/commit/:rev',
    tags,
    async (request) => {
      const model = await writableRepo(request);
      if (typeof request.body?.ndjson !== 'string')
        throw new HubError('BadRequest', 'a commit is application/x-ndjson');
      const ops = parseCommit(request.body.ndjson);
      const { parent, alias } = await parentOf(model, request.params.rev);
      const admin = allows(request.principal, 'admin', model);
      // Refused before any version exists: a protected alias moves only for admins.
      if (alias && !admin && (await db.aliases.get(model, alias))?.protected)
        throw registryError('FERRY_REGISTRY_FORBIDDEN', {
          actor: request.principal.user,
          scope: 'admin',
          resource: `${model}@${alias} (a protected alias)`,
        });
      if (ops.parentCommit && parent && commitOf(parent) !== ops.parentCommit)
        throw new HubError(
          'Conflict',
          `A commit has happened since ${ops.parentCommit}: the revision is at ${commitOf(parent)}`,
          412,
        );
      const files = new Map<string, NewFile>((parent?.files ?? []).map((f) => [f.path, f]));
      for (const op of ops.operations) {
        if (op.kind === 'delete') {
          const before = files.size;
          for (const path of [...files.keys()])
            if (path === op.path || (op.folder && path.startsWith(`${op.path.replace(/\/+$/, '')}/`)))
              files.delete(path);
          if (files.size === before)
            throw new HubError('EntryNotFound', `${op.path} does not exist on "${request.params.rev}"`);
        } else if (op.kind === 'inline') {
          const sha256 = createHash('sha256').update(op.content).digest('hex');
          await blobs.put(
            (async function* () {
              yield op.content;
            })(),
            { sha256, size: op.content.length },
          );
          files.set(op.path, { path: op.path, sha256, size: op.content.length });
        } else {
          const stored = await blobs.stat(op.oid);
          if (stored === undefined || (op.size !== undefined && stored !== op.size))
            throw new HubError(
              'BadRequest',
              `LFS object ${op.oid} for ${op.path} was not uploaded (or has another size)`,
            );
          files.set(op.path, { path: op.path, sha256: op.oid, size: stored });
        }
      }
      const description = [ops.summary, ops.description].filter((s) => s).join('\n\n');
      const { version } = await db.createVersion(request.principal.user, model, {
        files: [...files.values()],
        ...(description && { description }),
      });
      // The same inspection and scan as `ferry push`'s commit step.
      const inspection = await inspectVersion(context, version.files);
      const ready = await db.versions.finish(request.principal.user, model, version.version, {
        status: 'ready',
        ...inspection,
      });
      // A commit to a branch moves it: the alias follows the new version (main without a `main`
      // alias is simply the latest version).
      if (alias)
        await db.aliases.set(request.principal.user, model, alias, ready.version, { allowProtected: admin });
      const oid = commitOf(ready);
      return {
        success: true,
        commitOid: oid,
        commitUrl: `${base(request)}/${model}/commit/${oid}`,
        hookOutput: '',
      };
    },
  );

  /** The version a commit builds on and the alias it moves; commits go to branches, not to commits. */
  async function parentOf(model: string, rev: string): Promise<{ parent?: ModelVersion; alias?: string }> {
    if (/^\d{1,9}$/.test(rev) || /^[0-9a-f]{40}$/.test(rev))
      throw new HubError('BadRequest', `commits go to a branch (main or an alias), not to ${rev}`);
    const name = rev === 'HEAD' ? 'main' : checkLabel('revision', rev);
    const alias = await db.aliases.get(model, name);
    if (!alias && name !== 'main') throw new HubError('RevisionNotFound', `Invalid rev id: ${rev}`);
    const number = alias?.version ?? (await db.models.get(model))?.latestVersion ?? undefined;
    return {
      ...(number !== undefined && { parent: await db.versions.get(model, number) }),
      ...(alias && { alias: name }),
    };
  }
}

type CommitOp =
  | { kind: 'inline'; path: string; content: Buffer }
  | { kind: 'lfs'; path: string; oid: string; size?: number }
  | { kind: 'delete'; path: string; folder: boolean };

/** The NDJSON commit: a header line, then one line per operation (huggingface_hub _commit_api.py). */
export function parseCommit(text: string): {
  summary: string;
  description: string;
  parentCommit?: string;
  operations: CommitOp[];
} {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length > MAX_HUB_COMMIT_OPERATIONS + 1)
    throw new HubError('BadRequest', `more than ${MAX_HUB_COMMIT_OPERATIONS} operations in one commit`);
  let summary = '';
  let description = '';
  let parentCommit: string | undefined;
  const operations: CommitOp[] = [];
  lines.forEach((line, i) => {
    let entry: { key?: unknown; value?: Record<string, unknown> };
    try {
      entry = JSON.parse(line);
    } catch {
      throw new HubError('BadRequest', `commit line ${i + 1} is not JSON`);
    }
    const v = entry.value ?? {};
    const path = () => {
      if (typeof v.path !== 'string')
        throw new HubError('BadRequest', `commit line ${i + 1}: path must be a string`);
      return checkFilePath(v.path.replace(/^\/+/, ''));
    };
    switch (entry.key) {
      case 'header':
        summary = typeof v.summary === 'string' ? v.summary : '';
        description = typeof v.description === 'string' ? v.description : '';
        if (typeof v.parentCommit === 'string') parentCommit = v.parentCommit;
        break;
      case 'file': {
        if (typeof v.content !== 'string')
          throw new HubError('BadRequest', `commit line ${i + 1}: content must be a string`);
        const content = Buffer.from(v.content, v.encoding === 'base64' ? 'base64' : 'utf8');
        if (content.length > MAX_HUB_INLINE_BYTES)
          throw new HubError(
            'BadRequest',
            `commit line ${i + 1}: inline files are at most ${MAX_HUB_INLINE_BYTES} bytes; use LFS`,
          );
        operations.push({ kind: 'inline', path: path(), content });
        break;
      }
      case 'lfsFile':
        if (v.algo !== undefined && v.algo !== 'sha256')
          throw new HubError('BadRequest', `commit line ${i + 1}: LFS objects are named by sha256`);
        if (typeof v.oid !== 'string' || !SHA256_HEX.test(v.oid))
          throw new HubError('BadRequest', `commit line ${i + 1}: oid must be a sha256`);
        operations.push({
          kind: 'lfs',
          path: path(),
          oid: v.oid,
          ...(typeof v.size === 'number' && { size: v.size }),
        });
        break;
      case 'deletedFile':
      case 'deletedFolder':
        operations.push({ kind: 'delete', path: path(), folder: entry.key === 'deletedFolder' });
        break;
      default:
        throw new HubError(
          'BadRequest',
          `commit line ${i + 1}: unknown key ${JSON.stringify(entry.key)} (header, file, lfsFile, deletedFile, deletedFolder)`,
        );
    }
  });
  return { summary, description, ...(parentCommit && { parentCommit }), operations };
}
