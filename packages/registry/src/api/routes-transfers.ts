import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { isRegistryError, registryError } from '../errors.js';
import { MAX_FILE_BYTES, MAX_OPEN_UPLOADS_PER_USER } from '../limits.js';
import { type ByteStream, checkSha256, type UploadState } from '../store/blob-store.js';
import { requireScope } from './access.js';
import { allowsAny, type Principal } from './auth.js';
import type { ApiContext } from './context.js';

const digestParam = {
  type: 'object',
  properties: { digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } },
} as const;
const uploadParam = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
} as const;

/** Blob uploads need write on something: the version that uses the blob checks the model. */
function requireUploader(principal: Parameters<typeof allowsAny>[0]): void {
  if (!allowsAny(principal, 'write')) requireScope(principal, 'write', null);
}

function declaredLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const length = Number(header);
  if (!Number.isSafeInteger(length) || length < 0)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', { what: 'Content-Length', reason: 'not a byte count' });
  if (length > MAX_FILE_BYTES)
    throw registryError('FERRY_REGISTRY_TOO_LARGE', { what: 'upload', value: length, limit: MAX_FILE_BYTES });
  return length;
}

export function transferRoutes(app: FastifyInstance, { db, blobs }: ApiContext): void {
  /**
   * The caller's own upload session. Another user's session answers exactly like a missing one
   * (404, as distribution does for an unknown upload UUID), so its existence does not leak and
   * nobody can append to, finish or abandon it (issue #24).
   */
  const owned = async (principal: Principal, id: string) => {
    const upload = await db.uploads.get(id);
    if (!upload || upload.createdBy !== principal.user)
      throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'upload', name: id });
    return upload;
  };
  /** The upload's true state after any crash: the blob store's answer, written back to the database. */
  const current = async (principal: Principal, id: string) => {
    const upload = await owned(principal, id);
    const status = await blobs.uploadStatus(upload.state as UploadState, upload.received);
    if (status.received !== upload.received || JSON.stringify(status.state) !== JSON.stringify(upload.state))
      await db.uploads.advance(id, upload.received, status.received, status.state);
    return status;
  };

  app.head<{ Params: { digest: string } }>(
    '/api/v1/blobs/:digest',
    {
      schema: {
        summary: 'Whether a blob is stored (so a client can skip uploading it)',
        tags: ['transfers'],
        params: digestParam,
      },
    },
    async (request, reply) => {
      requireUploader(request.principal);
      const size = await blobs.stat(request.params.digest.slice(7));
      if (size === undefined) return reply.code(404).send();
      return reply.header('content-length', size).header('x-ferry-size', size).send();
    },
  );

  app.put<{ Params: { digest: string } }>(
    '/api/v1/blobs/:digest',
    {
      schema: {
        summary: 'Upload a whole blob; stored only if its sha256 matches the digest',
        tags: ['transfers'],
        params: digestParam,
      },
    },
    async (request, reply) => {
      requireUploader(request.principal);
      const sha256 = checkSha256(request.params.digest.slice(7));
      const size = declaredLength(request.headers['content-length']);
      const stored = await blobs.put(request.body as ByteStream, {
        sha256,
        ...(size !== undefined && { size }),
      });
      return reply.code(stored.created ? 201 : 200).send(stored);
    },
  );

  app.post(
    '/api/v1/uploads',
    { schema: { summary: 'Start a resumable upload', tags: ['transfers'] } },
    async (request, reply) => {
      requireUploader(request.principal);
      // Each open session may hold up to MAX_FILE_BYTES; unfinished ones expire (upload-sweeper.ts).
      const open = await db.uploads.countOpen(request.principal.user);
      if (open >= MAX_OPEN_UPLOADS_PER_USER)
        throw registryError('FERRY_REGISTRY_CONFLICT', {
          what: 'user',
          name: request.principal.user,
          reason: `holds ${open} unfinished uploads, the limit (MAX_OPEN_UPLOADS_PER_USER); finish or DELETE some first`,
        });
      const id = randomUUID();
      const state = await blobs.startUpload(id);
      await db.uploads.create(request.principal.user, id, state);
      return reply.code(201).header('location', `/api/v1/uploads/${id}`).send({ id, offset: 0 });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/uploads/:id',
    {
      schema: {
        summary: 'How many bytes of an upload the registry holds',
        tags: ['transfers'],
        params: uploadParam,
      },
    },
    async (request) => {
      requireUploader(request.principal);
      const { received } = await current(request.principal, request.params.id);
      return { id: request.params.id, offset: received };
    },
  );

  app.patch<{ Params: { id: string } }>(
    '/api/v1/uploads/:id',
    {
      schema: {
        summary: 'Append a chunk at Upload-Offset (which must equal the bytes received so far)',
        tags: ['transfers'],
        params: uploadParam,
        headers: {
          type: 'object',
          required: ['upload-offset'],
          properties: { 'upload-offset': { type: 'string', pattern: '^[0-9]{1,15}$' } },
        },
      },
    },
    async (request) => {
      requireUploader(request.principal);
      const id = request.params.id;
      const upload = await current(request.principal, id);
      const offset = Number(request.headers['upload-offset']);
      if (offset !== upload.received)
        throw registryError('FERRY_REGISTRY_CONFLICT', {
          what: 'upload',
          name: id,
          reason: `Upload-Offset is ${offset}, the registry holds ${upload.received} bytes`,
        });
      const next = await blobs.appendUpload(upload.state, offset, request.body as ByteStream);
      if (!(await db.uploads.advance(id, offset, next.received, next.state)))
        throw registryError('FERRY_REGISTRY_CONFLICT', {
          what: 'upload',
          name: id,
          reason: 'another chunk was written at the same time',
        });
      return { id, offset: next.received };
    },
  );

  app.put<{ Params: { id: string }; Querystring: { digest: string; size?: number } }>(
    '/api/v1/uploads/:id',
    {
      schema: {
        summary: 'Finish an upload: verify its sha256 and store it as a blob',
        tags: ['transfers'],
        params: uploadParam,
        querystring: {
          type: 'object',
          required: ['digest'],
          additionalProperties: false,
          properties: {
            digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
            size: { type: 'integer', minimum: 0 },
          },
        },
      },
    },
    async (request, reply) => {
      requireUploader(request.principal);
      const id = request.params.id;
      const upload = await owned(request.principal, id);
      const sha256 = request.query.digest.slice(7);
      const size = request.query.size ?? upload.received;
      if (size !== upload.received)
        throw registryError('FERRY_REGISTRY_CONFLICT', {
          what: 'upload',
          name: id,
          reason: `holds ${upload.received} bytes, expected ${size}`,
        });
      try {
        const stored = await blobs.finishUpload(upload.state as Record<string, string>, { sha256, size });
        await db.uploads.delete(id);
        return reply.code(stored.created ? 201 : 200).send(stored);
      } catch (error) {
        if (isRegistryError(error) && error.code === 'FERRY_REGISTRY_DIGEST_MISMATCH') {
          await blobs.abortUpload(upload.state as Record<string, string>).catch(() => undefined);
          await db.uploads.delete(id);
        }
        throw error;
      }
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/uploads/:id',
    { schema: { summary: 'Abandon an upload', tags: ['transfers'], params: uploadParam } },
    async (request, reply) => {
      requireUploader(request.principal);
      const upload = await owned(request.principal, request.params.id);
      await blobs.abortUpload(upload.state as Record<string, string>);
      await db.uploads.delete(request.params.id);
      return reply.code(204).send();
    },
  );
}
