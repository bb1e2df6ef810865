import type { FastifyInstance } from 'fastify';
import { requireScope } from './access.js';
import { formatGrant, hashToken, newToken, parseGrant } from './auth.js';
import type { ApiContext } from './context.js';
import { SCHEMAS } from '@ferry/registry-client';

export function tokenRoutes(app: FastifyInstance, { db }: ApiContext): void {
  app.get(
    '/api/v1/whoami',
    { schema: { summary: 'The caller: user and scopes', tags: ['auth'] } },
    async (request) => ({
      user: request.principal.user,
      anonymous: request.principal.anonymous,
      scopes: request.principal.grants.map(formatGrant),
    }),
  );

  app.post<{ Body: { user: string; scopes: string[]; description?: string } }>(
    '/api/v1/tokens',
    {
      schema: {
        summary: 'Create a user token (admin; shown once, only its sha256 is stored)',
        tags: ['auth'],
        body: SCHEMAS.createToken,
      },
    },
    async (request, reply) => {
      requireScope(request.principal, 'admin', null);
      const grants = request.body.scopes.map(parseGrant);
      const token = newToken();
      const info = await db.tokens.create(
        request.principal.user,
        request.body.user,
        hashToken(token),
        grants,
        request.body.description ?? '',
      );
      return reply.code(201).send({ ...info, scopes: grants.map(formatGrant), token });
    },
  );

  app.get(
    '/api/v1/tokens',
    { schema: { summary: 'List tokens (never their values) (admin)', tags: ['auth'] } },
    async (request) => {
      requireScope(request.principal, 'admin', null);
      return { tokens: (await db.tokens.list()).map((t) => ({ ...t, scopes: t.grants.map(formatGrant) })) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/tokens/:id',
    {
      schema: {
        summary: 'Revoke a token (admin)',
        tags: ['auth'],
        params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f-]{36}$' } } },
      },
    },
    async (request, reply) => {
      requireScope(request.principal, 'admin', null);
      await db.tokens.delete(request.principal.user, request.params.id);
      return reply.code(204).send();
    },
  );
}
