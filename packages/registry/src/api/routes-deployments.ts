import type { FastifyInstance } from 'fastify';
import { registryError } from '../errors.js';
import { checkLabel, parseModelName } from '@ferry/registry-client';
import { DEPLOYMENT_STATUSES, type DeploymentStatus, type DeploymentStore } from '../store/deployments.js';
import { modelWith, visibleModel } from './access.js';
import { allows } from './auth.js';
import type { ApiContext } from './context.js';

/** A deployment name is the inference server's model name: one path segment, no separators. */
export const DEPLOYMENT_NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$';

const nameParam = {
  type: 'object',
  properties: { name: { type: 'string', pattern: DEPLOYMENT_NAME } },
} as const;

/** Serving config: the server checks its fields; the registry bounds its size (kept as JSON). */
const configSchema = { type: ['object', 'null'], maxProperties: 32 } as const;

export function deploymentRoutes(
  app: FastifyInstance,
  { db }: ApiContext,
  deployments: DeploymentStore,
): void {
  app.get<{ Querystring: { model?: string } }>(
    '/api/v1/deployments',
    {
      schema: {
        summary: 'Deployments the caller can see (of one model with ?model=): which version each serves',
        tags: ['deployments'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { model: { type: 'string', maxLength: 200 } },
        },
      },
    },
    async (request) => {
      const model = request.query.model === undefined ? undefined : parseModelName(request.query.model).full;
      const all = await deployments.list(model);
      const visible = [];
      for (const d of all) {
        const row = await db.models.find(d.model);
        if (row && (row.visibility === 'public' || allows(request.principal, 'read', d.model)))
          visible.push(d);
      }
      return { deployments: visible };
    },
  );

  app.get<{ Params: { name: string } }>(
    '/api/v1/deployments/:name',
    { schema: { summary: 'One deployment', tags: ['deployments'], params: nameParam } },
    async (request) => {
      const found = await deployments.get(request.params.name);
      const notFound = registryError('FERRY_REGISTRY_NOT_FOUND', {
        what: 'deployment',
        name: request.params.name,
      });
      if (!found) throw notFound;
      // A deployment of a private model the caller cannot read answers like a missing one.
      await visibleModel(db, request.principal, found.model).catch(() => {
        throw notFound;
      });
      return found;
    },
  );

  app.put<{
    Params: { name: string };
    Body: { model: string; alias: string; config?: Record<string, unknown> | null; endpoint?: string };
  }>(
    '/api/v1/deployments/:name',
    {
      schema: {
        summary: 'Create or change a deployment: serve models:/MODEL@ALIAS under NAME (write on the model)',
        tags: ['deployments'],
        params: nameParam,
        body: {
          type: 'object',
          required: ['model', 'alias'],
          additionalProperties: false,
          properties: {
            model: { type: 'string', maxLength: 200 },
            alias: { type: 'string', maxLength: 64 },
            config: configSchema,
            endpoint: { type: 'string', maxLength: 2000, pattern: '^https?://' },
          },
        },
      },
    },
    async (request, reply) => {
      const model = await modelWith(db, request.principal, request.body.model, 'write');
      const alias = checkLabel('alias', request.body.alias);
      const existing = await deployments.get(request.params.name);
      if (existing && existing.model !== model)
        await modelWith(db, request.principal, existing.model, 'write');
      const { deployment, created } = await deployments.put(request.principal.user, {
        name: request.params.name,
        model,
        alias,
        config: request.body.config ?? null,
        ...(request.body.endpoint !== undefined && { endpoint: request.body.endpoint }),
      });
      return reply.code(created ? 201 : 200).send(deployment);
    },
  );

  app.post<{
    Params: { name: string };
    Body: { status: DeploymentStatus; liveVersion: number | null; message?: string; endpoint?: string };
  }>(
    '/api/v1/deployments/:name/status',
    {
      schema: {
        summary: 'A server reports what it serves: the live version, or why loading the aliased one failed',
        tags: ['deployments'],
        params: nameParam,
        body: {
          type: 'object',
          required: ['status', 'liveVersion'],
          additionalProperties: false,
          properties: {
            status: { enum: [...DEPLOYMENT_STATUSES] },
            liveVersion: { type: ['integer', 'null'], minimum: 1 },
            message: { type: 'string', maxLength: 4096 },
            endpoint: { type: 'string', maxLength: 2000, pattern: '^https?://' },
          },
        },
      },
    },
    async (request) => {
      const found = await deployments.get(request.params.name);
      if (!found)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'deployment', name: request.params.name });
      await modelWith(db, request.principal, found.model, 'write');
      const updated = await deployments.report(request.principal.user, request.params.name, {
        status: request.body.status,
        liveVersion: request.body.liveVersion,
        ...(request.body.message !== undefined && { message: request.body.message }),
        ...(request.body.endpoint !== undefined && { endpoint: request.body.endpoint }),
      });
      if (!updated)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'deployment', name: request.params.name });
      return updated;
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/api/v1/deployments/:name',
    {
      schema: {
        summary: 'Remove a deployment (write on the model)',
        tags: ['deployments'],
        params: nameParam,
      },
    },
    async (request, reply) => {
      const found = await deployments.get(request.params.name);
      if (!found)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'deployment', name: request.params.name });
      await modelWith(db, request.principal, found.model, 'write');
      await deployments.delete(request.principal.user, request.params.name);
      return reply.code(204).send();
    },
  );
}
