import type { FastifyInstance } from 'fastify';
import { registryError } from '../errors.js';
import { checkLabel, parseModelName } from '@ferry/registry-client';
import type { Visibility } from '../store/types.js';
import { modelWith, requireScope, visibleModel } from './access.js';
import { allows } from './auth.js';
import { parseCard } from './card.js';
import type { ApiContext } from './context.js';
import { SCHEMAS } from '@ferry/registry-client';

type ModelParams = { model: string };

export function modelRoutes(app: FastifyInstance, { db }: ApiContext): void {
  app.get<{ Querystring: { namespace?: string; search?: string; limit?: number; offset?: number } }>(
    '/api/v1/models',
    {
      schema: {
        summary: 'List the models the caller can see',
        tags: ['models'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            namespace: { type: 'string', maxLength: 96 },
            search: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
      },
    },
    async (request) => {
      const { limit = 100, offset = 0, ...filter } = request.query;
      const all = (await db.models.list(filter)).filter(
        (m) => m.visibility === 'public' || allows(request.principal, 'read', m.name),
      );
      return { models: all.slice(offset, offset + limit), total: all.length };
    },
  );

  app.post<{
    Body: { name: string; description?: string; visibility?: Visibility; tags?: Record<string, string> };
  }>(
    '/api/v1/models',
    { schema: { summary: 'Register a model', tags: ['models'], body: SCHEMAS.createModel } },
    async (request, reply) => {
      const name = parseModelName(request.body.name).full;
      for (const key of Object.keys(request.body.tags ?? {})) checkLabel('tag key', key);
      requireScope(request.principal, 'write', name);
      const model = await db.models.create(request.principal.user, request.body);
      return reply.code(201).send(model);
    },
  );

  app.get<{ Params: ModelParams }>(
    '/api/v1/models/:model',
    { schema: { summary: 'Show a model', tags: ['models'] } },
    async (request) => {
      const name = await visibleModel(db, request.principal, request.params.model);
      return db.models.get(name);
    },
  );

  app.patch<{ Params: ModelParams; Body: { description?: string; visibility?: Visibility } }>(
    '/api/v1/models/:model',
    {
      schema: {
        summary: "Change a model's description or visibility",
        tags: ['models'],
        body: SCHEMAS.updateModel,
      },
    },
    async (request) => {
      const name = await modelWith(db, request.principal, request.params.model, 'write');
      return db.models.update(request.principal.user, name, request.body);
    },
  );

  app.delete<{ Params: ModelParams }>(
    '/api/v1/models/:model',
    { schema: { summary: 'Delete a model and its versions (admin)', tags: ['models'] } },
    async (request, reply) => {
      const name = await modelWith(db, request.principal, request.params.model, 'admin');
      await db.deleteModel(request.principal.user, name);
      return reply.code(204).send();
    },
  );

  app.put<{ Params: ModelParams & { key: string }; Body: { value: string } }>(
    '/api/v1/models/:model/tags/:key',
    { schema: { summary: 'Set a model tag', tags: ['models'], body: SCHEMAS.tagValue } },
    async (request) => {
      const name = await modelWith(db, request.principal, request.params.model, 'write');
      await db.models.setTag(
        request.principal.user,
        name,
        checkLabel('tag key', request.params.key),
        request.body.value,
      );
      return db.models.get(name);
    },
  );

  app.delete<{ Params: ModelParams & { key: string } }>(
    '/api/v1/models/:model/tags/:key',
    { schema: { summary: 'Delete a model tag', tags: ['models'] } },
    async (request) => {
      const name = await modelWith(db, request.principal, request.params.model, 'write');
      await db.models.setTag(request.principal.user, name, checkLabel('tag key', request.params.key), null);
      return db.models.get(name);
    },
  );

  app.get<{ Params: ModelParams }>(
    '/api/v1/models/:model/card',
    { schema: { summary: 'The model card (README.md with YAML front matter)', tags: ['models'] } },
    async (request) => {
      const name = await visibleModel(db, request.principal, request.params.model);
      const text = await db.models.getCard(name);
      if (text === null) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'model card of', name });
      return parseCard(text);
    },
  );

  app.put<{ Params: ModelParams; Body: { card: string } }>(
    '/api/v1/models/:model/card',
    { schema: { summary: 'Replace the model card', tags: ['models'], body: SCHEMAS.card } },
    async (request) => {
      const name = await modelWith(db, request.principal, request.params.model, 'write');
      const card = parseCard(request.body.card);
      await db.models.setCard(request.principal.user, name, card.text);
      return card;
    },
  );
}
