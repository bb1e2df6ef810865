import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { registryError } from '../errors.js';
import { parseModelName } from '@ferry/registry-client';
import { WEBHOOK_EVENTS, type WebhookEvent, type WebhookStore } from '../store/webhooks.js';
import { requireScope } from './access.js';
import type { ApiContext } from './context.js';
import type { WebhookTargets } from './webhook-target.js';

const idParam = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } },
} as const;

export function webhookRoutes(
  app: FastifyInstance,
  _context: ApiContext,
  hooks: WebhookStore,
  targets: WebhookTargets,
): void {
  app.post<{ Body: { url: string; events: WebhookEvent[]; model?: string; secret?: string } }>(
    '/api/v1/webhooks',
    {
      schema: {
        summary: 'Subscribe a URL to events (admin); the secret signs every delivery and is shown once',
        tags: ['webhooks'],
        body: {
          type: 'object',
          required: ['url', 'events'],
          additionalProperties: false,
          properties: {
            url: { type: 'string', maxLength: 2000, pattern: '^https?://' },
            events: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...WEBHOOK_EVENTS] } },
            model: { type: 'string', maxLength: 200 },
            secret: { type: 'string', minLength: 16, maxLength: 200 },
          },
        },
      },
    },
    async (request, reply) => {
      const model = request.body.model;
      if (model !== undefined) {
        if (model.endsWith('/*')) parseModelName(model.slice(0, -2));
        else parseModelName(model);
      }
      // Webhooks make the server send requests to a URL of the caller's choice (CWE-918): admins only.
      requireScope(request.principal, 'admin', model && !model.endsWith('/*') ? model : null);
      // Checked again at every delivery (DNS may answer differently by then).
      await targets.checkUrl(request.body.url);
      const secret = request.body.secret ?? randomBytes(32).toString('base64url');
      const hook = await hooks.create(request.principal.user, {
        url: request.body.url,
        events: request.body.events,
        model: model ?? null,
        secret,
      });
      return reply.code(201).send({ ...hook, secret });
    },
  );

  app.get(
    '/api/v1/webhooks',
    { schema: { summary: 'List webhooks (admin)', tags: ['webhooks'] } },
    async (request) => {
      requireScope(request.principal, 'admin', null);
      return { webhooks: await hooks.list() };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/webhooks/:id',
    { schema: { summary: 'Remove a webhook (admin)', tags: ['webhooks'], params: idParam } },
    async (request, reply) => {
      const hook = await hooks.get(request.params.id);
      if (!hook)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'webhook', name: request.params.id });
      requireScope(request.principal, 'admin', hook.model && !hook.model.endsWith('/*') ? hook.model : null);
      await hooks.delete(request.principal.user, request.params.id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/webhooks/:id/deliveries',
    {
      schema: {
        summary: 'The delivery log: each event, attempts, last status, next retry (admin)',
        tags: ['webhooks'],
        params: idParam,
      },
    },
    async (request) => {
      const hook = await hooks.get(request.params.id);
      if (!hook)
        throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'webhook', name: request.params.id });
      requireScope(request.principal, 'admin', hook.model && !hook.model.endsWith('/*') ? hook.model : null);
      return { deliveries: await hooks.deliveries(request.params.id) };
    },
  );
}
