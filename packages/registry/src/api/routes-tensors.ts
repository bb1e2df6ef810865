import { join } from 'node:path';
import { diffModels, inspectModel, isFerryError } from '@ferry/formats';
import type { FastifyInstance } from 'fastify';
import { registryError } from '../errors.js';
import { checkFilePath } from '@ferry/registry-client';
import type { ModelVersion, VersionFile } from '../store/types.js';
import { visibleModel } from './access.js';
import type { ApiContext } from './context.js';
import { resolveUri } from './resolve.js';
import { withVersionFiles } from './version-files.js';
import { fileVerdict, versionVerdict } from './version-verdict.js';

/** Tensors listed per answer: a web page cannot show more usefully (the total is still given). */
export const MAX_TENSOR_ROWS = 5000;

const versionParams = {
  type: 'object',
  properties: {
    model: { type: 'string', maxLength: 200 },
    version: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 },
  },
} as const;

/**
 * What the web UI needs beyond the summary stored at commit: the tensor table of one file, a
 * tensor-by-tensor diff of two versions (@ferry/formats' diffModels) and a dataset's record.
 * Everything is read-only and obeys the same visibility as the rest of the API.
 */
export function tensorRoutes(app: FastifyInstance, context: ApiContext): void {
  const { db } = context;
  const readyVersion = async (model: string, version: number): Promise<ModelVersion> => {
    const found = await db.versions.get(model, version);
    if (found?.status !== 'ready')
      throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'version', name: `${model}/${version}` });
    return found;
  };

  app.get<{ Params: { model: string; version: number }; Querystring: { file?: string } }>(
    '/api/v1/models/:model/versions/:version/tensors',
    {
      schema: {
        summary: "The tensor table of a version's model file (inspect; the first recognised file by default)",
        tags: ['versions'],
        params: versionParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { file: { type: 'string', maxLength: 4096 } },
        },
      },
    },
    async (request) => {
      const name = await visibleModel(db, request.principal, request.params.model);
      const version = await readyVersion(name, request.params.version);
      const file = modelFile(version, request.query.file);
      const report = await withVersionFiles(context, version.files, (dir) =>
        inspectModel(join(dir, file.path)).catch((error) => refuse(error, [dir], version)),
      );
      return {
        file: file.path,
        format: report.format,
        parameters: report.parameters,
        bytes: report.bytes,
        total: report.tensors.length,
        tensors: report.tensors.slice(0, MAX_TENSOR_ROWS),
        opaque: (report.opaque ?? []).slice(0, MAX_TENSOR_ROWS).map((t) => ({
          name: t.name,
          shape: t.shape,
          bytes: t.byteLength,
        })),
        metadata: report.metadata,
        inputs: report.inputs ?? [],
        outputs: report.outputs ?? [],
        findings: report.findings ?? [],
      };
    },
  );

  app.get<{
    Params: { model: string; version: number };
    Querystring: { against: string; file?: string; againstFile?: string; atol?: number };
  }>(
    '/api/v1/models/:model/versions/:version/diff',
    {
      schema: {
        summary:
          'Tensor-by-tensor diff of this version against another (a version number of the same model or a models:/ URI)',
        tags: ['versions'],
        params: versionParams,
        querystring: {
          type: 'object',
          required: ['against'],
          additionalProperties: false,
          properties: {
            against: { type: 'string', maxLength: 300 },
            file: { type: 'string', maxLength: 4096 },
            againstFile: { type: 'string', maxLength: 4096 },
            atol: { type: 'number', minimum: 0 },
          },
        },
      },
    },
    async (request) => {
      const name = await visibleModel(db, request.principal, request.params.model);
      const a = await readyVersion(name, request.params.version);
      const { against } = request.query;
      const target = /^\d+$/.test(against)
        ? { model: name, version: Number(against) }
        : await resolveUri(db, request.principal, against);
      const b = await readyVersion(target.model, target.version);
      const fileA = modelFile(a, request.query.file);
      const fileB = modelFile(b, request.query.againstFile);
      const report = await withVersionFiles(context, a.files, (dirA) =>
        withVersionFiles(context, b.files, (dirB) =>
          diffModels(join(dirA, fileA.path), join(dirB, fileB.path), { atol: request.query.atol ?? 0 }).catch(
            (error) => refuse(error, [dirA, dirB], a),
          ),
        ),
      );
      return {
        a: {
          model: name,
          version: a.version,
          file: fileA.path,
          format: report.a.format,
          tensors: report.a.tensors,
        },
        b: {
          model: target.model,
          version: b.version,
          file: fileB.path,
          format: report.b.format,
          tensors: report.b.tensors,
        },
        atol: report.atol,
        equal: report.equal,
        onlyInA: report.onlyInA.slice(0, MAX_TENSOR_ROWS),
        onlyInB: report.onlyInB.slice(0, MAX_TENSOR_ROWS),
        // JSON has no Infinity: a NaN/inf mismatch is sent as the string "inf".
        tensors: report.tensors.slice(0, MAX_TENSOR_ROWS).map((t) => ({
          ...t,
          maxAbsDiff: t.maxAbsDiff !== null && !Number.isFinite(t.maxAbsDiff) ? 'inf' : t.maxAbsDiff,
        })),
      };
    },
  );

  app.get<{ Params: { model: string; version: number } }>(
    '/api/v1/models/:model/versions/:version/scan',
    {
      schema: {
        summary: "Every finding of the scanner on each of a version's files (nothing is executed)",
        tags: ['versions'],
        params: versionParams,
      },
    },
    async (request) => {
      const name = await visibleModel(db, request.principal, request.params.model);
      const version = await readyVersion(name, request.params.version);
      const files = await withVersionFiles(context, version.files, async (dir) => {
        const out = [];
        // Every file, judged as the stored verdict was (version-verdict.ts).
        for (const result of (await versionVerdict(dir)).files) {
          // Paths inside messages name the temp folder; the version's own path is what a reader knows.
          const local = (text: string) => text.split(`${dir}/`).join('');
          out.push({
            path: result.path,
            format: result.format,
            verdict: fileVerdict(result),
            findings: result.findings
              .slice(0, MAX_TENSOR_ROWS)
              .map((f) => ({ ...f, message: local(f.message) })),
            ...(result.error && { error: { code: result.error.code, message: local(result.error.message) } }),
          });
        }
        return out;
      });
      return { scan: version.scan, files };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/datasets/:id',
    {
      schema: {
        summary: 'Show a dataset (name, digest, source)',
        tags: ['lineage'],
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$' } } },
      },
    },
    async (request) => {
      const dataset = await db.lineage.getDataset(request.params.id);
      if (!dataset)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'dataset', name: request.params.id });
      return dataset;
    },
  );
}

/**
 * A file @ferry/formats will not open (an unsafe pickle, a broken file) answers 422 UNSAFE or 400,
 * with the temp folder taken out of the message: the version's own path is what a reader knows.
 */
function refuse(error: unknown, dirs: readonly string[], version: ModelVersion): never {
  if (!isFerryError(error)) throw error;
  const message = dirs.reduce((text, dir) => text.split(`${dir}/`).join(''), error.message);
  if (/UNSAFE|REFUSED/.test(error.code))
    throw registryError('FERRY_REGISTRY_UNSAFE', {
      name: version.model,
      version: version.version,
      reason: message,
    });
  throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
    what: `${version.model}/${version.version}`,
    reason: message,
  });
}

/** The named file, else the first file a format was detected for (the model itself). */
function modelFile(version: ModelVersion, path: string | undefined): VersionFile {
  if (path !== undefined) {
    const wanted = checkFilePath(path);
    const file = version.files.find((f) => f.path === wanted);
    if (!file)
      throw registryError('FERRY_REGISTRY_NOT_FOUND', {
        what: 'file',
        name: `${version.model}/${version.version}/${wanted}`,
      });
    return file;
  }
  const file = version.files.find((f) => f.format !== null);
  if (!file)
    throw registryError('FERRY_REGISTRY_NOT_FOUND', {
      what: 'model file (no file is a format ferry reads) in',
      name: `${version.model}/${version.version}`,
    });
  return file;
}
