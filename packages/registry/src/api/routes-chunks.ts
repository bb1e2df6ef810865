import type { FastifyInstance } from 'fastify';
import { checkFilePath } from '@ferry/registry-client';
import { registryError } from '../errors.js';
import { MAX_CHUNKS_PER_REQUEST, MAX_FILE_BYTES } from '../limits.js';
import { type ByteStream, checkSha256 } from '../store/blob-store.js';
import { requireScope, visibleModel } from './access.js';
import { allowsAny } from './auth.js';
import { readPack } from './chunk-pack.js';
import { collectGarbage } from '../store/chunk-gc.js';
import { versionSharing } from '../store/chunk-sharing.js';
import { versionNode } from '../store/node-id.js';
import { UPLOAD_ID } from '../store/file-hashes.js';
import type { ApiContext } from './context.js';

const SHA = '^[0-9a-f]{64}$';

/** The optional x-ferry-upload header: a random 128-bit id as 32 lowercase hex digits. */
function uploadId(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !UPLOAD_ID.test(header))
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what: 'x-ferry-upload header',
      reason: 'an upload id is 32 lowercase hex digits (128 random bits)',
    });
  return header;
}

function requireUploader(principal: Parameters<typeof allowsAny>[0]): void {
  if (!allowsAny(principal, 'write')) requireScope(principal, 'write', null);
}

/**
 * Chunked transfer (issue #20): ask which chunks the registry lacks, send only those in packs,
 * then commit each file's manifest (verified against the file's sha256). Pulls read a version
 * file's manifest and fetch missing chunks as byte ranges of the ordinary download route.
 */
export function chunkRoutes(app: FastifyInstance, { db, files }: ApiContext): void {
  app.post<{ Body: { chunks: string[] } }>(
    '/api/v1/chunks/missing',
    {
      schema: {
        summary: 'Which of these chunks the registry lacks (the present ones are leased for a commit)',
        tags: ['transfers'],
        body: {
          type: 'object',
          required: ['chunks'],
          additionalProperties: false,
          properties: {
            chunks: {
              type: 'array',
              maxItems: MAX_CHUNKS_PER_REQUEST,
              items: { type: 'string', pattern: SHA },
            },
          },
        },
      },
    },
    async (request) => {
      requireUploader(request.principal);
      const present = await files.chunks.present(request.body.chunks);
      return { missing: [...new Set(request.body.chunks)].filter((c) => !present.has(c)) };
    },
  );

  app.post(
    '/api/v1/chunks',
    {
      schema: {
        summary:
          'Upload a pack of chunks (each: 32-byte sha256, uint32 BE size, bytes); each is verified and stored',
        tags: ['transfers'],
      },
    },
    async (request) => {
      requireUploader(request.principal);
      // Optional: the file these chunks are, in order from this offset (lets the manifest commit
      // skip reading them back; see file-hashes.ts), named by its sha256 (x-ferry-file) or, by a
      // client that sends before it knows that, by a random upload id its commit repeats.
      const fileHeader = request.headers['x-ferry-file'];
      const upload = uploadId(request.headers['x-ferry-upload']);
      const key =
        upload !== undefined
          ? `upload:${upload}`
          : typeof fileHeader === 'string' && /^sha256:[0-9a-f]{64}$/.test(fileHeader)
            ? fileHeader
            : undefined;
      const offset = Number(request.headers['x-ferry-file-offset'] ?? Number.NaN);
      const checked = readPack(request.body as ByteStream);
      const verified = (async function* () {
        for await (const chunk of checked) yield { ...chunk, sha256: checkSha256(chunk.sha256, 'chunk') };
      })();
      const { received, stored } = await files.storeChunks(
        verified,
        key && Number.isSafeInteger(offset) && offset >= 0 ? { key, offset } : undefined,
      );
      return { received, stored };
    },
  );

  app.put<{ Params: { digest: string }; Body: { size: number; chunks: string[]; sizes: number[] } }>(
    '/api/v1/files/:digest',
    {
      schema: {
        summary: "Commit a file's manifest: its chunks in order; verified against the file's sha256",
        tags: ['transfers'],
        params: {
          type: 'object',
          properties: { digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } },
        },
        body: {
          type: 'object',
          required: ['size', 'chunks', 'sizes'],
          additionalProperties: false,
          properties: {
            size: { type: 'integer', minimum: 0, maximum: MAX_FILE_BYTES },
            chunks: {
              type: 'array',
              maxItems: MAX_CHUNKS_PER_REQUEST,
              items: { type: 'string', pattern: SHA },
            },
            sizes: {
              type: 'array',
              maxItems: MAX_CHUNKS_PER_REQUEST,
              items: { type: 'integer', minimum: 1 },
            },
          },
        },
      },
    },
    async (request, reply) => {
      requireUploader(request.principal);
      const sha256 = request.params.digest.slice(7);
      const { size, chunks, sizes } = request.body;
      if (chunks.length !== sizes.length)
        throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
          what: 'manifest',
          reason: `${chunks.length} chunks but ${sizes.length} sizes`,
        });
      const created = await files.commitFile(
        sha256,
        size,
        chunks.map((c, i) => ({ sha256: c, size: sizes[i]! })),
        // The upload id the file's packs carried (a header: older registries ignore it).
        uploadId(request.headers['x-ferry-upload']),
      );
      return reply.code(created ? 201 : 200).send({ sha256, size, created });
    },
  );

  app.get<{ Params: { model: string; version: number; '*': string } }>(
    '/api/v1/models/:model/versions/:version/manifests/*',
    {
      schema: {
        summary:
          "A version file's chunks (sha256, offset, size), for a pull that fetches only the chunks it lacks",
        tags: ['transfers'],
        params: {
          type: 'object',
          properties: {
            model: { type: 'string', maxLength: 200 },
            version: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 },
          },
        },
      },
    },
    async (request) => {
      const name = await visibleModel(db, request.principal, request.params.model);
      const version = await db.versions.get(name, Number(request.params.version));
      const path = checkFilePath(request.params['*']);
      const file = version?.status === 'ready' ? version.files.find((f) => f.path === path) : undefined;
      if (!file)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', {
          what: 'file',
          name: `${name}/${request.params.version}/${path}`,
        });
      const manifest = await files.chunks.manifest(file.sha256);
      // A file stored whole before chunking: one "chunk", the file itself.
      if (!manifest) return { sha256: file.sha256, size: file.size, whole: true, chunks: [] };
      // Where chunks are stored is the registry's business: the wire shape stays as it was.
      return {
        sha256: manifest.sha256,
        size: manifest.size,
        chunks: manifest.chunks.map((c) => ({ sha256: c.sha256, offset: c.offset, size: c.size })),
      };
    },
  );

  app.post<{ Querystring: { graceSeconds?: number } }>(
    '/api/v1/admin/gc',
    {
      schema: {
        summary: 'Free chunks and manifests no version references (idle past the grace period, default 1 h)',
        tags: ['transfers'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { graceSeconds: { type: 'integer', minimum: 0, maximum: 365 * 86400 } },
        },
      },
    },
    async (request) => {
      requireScope(request.principal, 'admin', null);
      const grace = request.query.graceSeconds;
      return collectGarbage(files.chunks, files.raw, grace === undefined ? {} : { graceMs: grace * 1000 });
    },
  );

  app.get<{ Params: { model: string; version: number } }>(
    '/api/v1/models/:model/versions/:version/sharing',
    {
      schema: {
        summary:
          'Bytes this version shares with its parent (the version it was derived from, else the previous one) and with any other version',
        tags: ['versions'],
        params: {
          type: 'object',
          properties: {
            model: { type: 'string', maxLength: 200 },
            version: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 },
          },
        },
      },
    },
    async (request) => {
      const name = await visibleModel(db, request.principal, request.params.model);
      const number = Number(request.params.version);
      const version = await db.versions.require(name, number);
      const row = await db.models.require(name);
      // The parent: a version it was derived from (lineage), else the model's previous ready version.
      const graph = await db.lineage.graph(versionNode(name, number), 1);
      const derived = graph.upstream.edges
        .filter((e) => e.relation === 'derived' && e.dst === versionNode(name, number))
        .map((e) => /^models:\/(.+)\/(\d+)$/.exec(e.src))
        .find((m) => m !== null);
      let parent: { model: string; version: number } | undefined;
      if (derived) parent = { model: derived[1]!, version: Number(derived[2]) };
      else {
        const earlier = (await db.versions.list(name)).filter((v) => v.version < number);
        if (earlier.length > 0) parent = { model: name, version: earlier[earlier.length - 1]!.version };
      }
      const parentRow = parent && (await db.models.find(parent.model));
      const sharing = await versionSharing(
        db.store,
        { modelId: row.id, version: number },
        parent && parentRow ? { modelId: parentRow.id, version: parent.version } : undefined,
      );
      const size = version.files.reduce((n, f) => n + f.size, 0);
      return {
        model: name,
        version: number,
        size,
        ...sharing,
        parent: parent && parentRow ? `models:/${parent.model}/${parent.version}` : null,
      };
    },
  );
}
