import type { FastifyInstance } from 'fastify';
import { registryError } from '../errors.js';
import { versionNode } from '../store/node-id.js';
import type { EdgeRelation, RunStatus } from '../store/types.js';
import { requireScope, visibleModel } from './access.js';
import { allows, allowsAny } from './auth.js';
import type { ApiContext } from './context.js';
import { resolveUri } from './resolve.js';
import { SCHEMAS } from '@ferry/registry-client';

const runParam = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$' } },
} as const;

export function lineageRoutes(app: FastifyInstance, { db }: ApiContext): void {
  const requireWriter = (principal: Parameters<typeof allowsAny>[0]) => {
    if (!allowsAny(principal, 'write')) requireScope(principal, 'write', null);
  };

  app.post<{
    Body: {
      name?: string;
      params?: Record<string, string>;
      tags?: Record<string, string>;
      inputs?: { name: string; digest: string; source?: string }[];
    };
  }>(
    '/api/v1/runs',
    {
      schema: {
        summary: 'Start a run (params, tags, input datasets)',
        tags: ['lineage'],
        body: SCHEMAS.createRun,
      },
    },
    async (request, reply) => {
      requireWriter(request.principal);
      return reply.code(201).send(await db.createRun(request.principal.user, request.body));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/runs/:id',
    {
      schema: {
        summary: 'Show a run with its params, tags and metrics',
        tags: ['lineage'],
        params: runParam,
      },
    },
    async (request) => {
      const run = await db.runs.get(request.params.id);
      if (!run) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'run', name: request.params.id });
      return run;
    },
  );

  app.post<{
    Params: { id: string };
    Body: {
      params?: Record<string, string>;
      tags?: Record<string, string>;
      metrics?: { key: string; value: number; step?: number }[];
      status?: RunStatus;
    };
  }>(
    '/api/v1/runs/:id/log',
    {
      schema: {
        summary: 'Log params, metrics (with steps), tags or the final status',
        tags: ['lineage'],
        params: runParam,
        body: SCHEMAS.logRun,
      },
    },
    async (request) => {
      requireWriter(request.principal);
      return db.runs.log(request.principal.user, request.params.id, request.body);
    },
  );

  app.post<{ Body: { src: string; dst: string; relation: EdgeRelation } }>(
    '/api/v1/lineage/edges',
    {
      schema: {
        summary:
          'Record an edge: dataset -> run (input), run -> version (output), version -> version (derived)',
        tags: ['lineage'],
        body: SCHEMAS.addEdge,
      },
    },
    async (request, reply) => {
      const src = await node(request.body.src, request.principal, false);
      const dst = await node(request.body.dst, request.principal, true);
      await db.lineage.addEdge(request.principal.user, src, dst, request.body.relation);
      return reply.code(201).send({ src, dst, relation: request.body.relation });
    },
  );

  app.get<{ Querystring: { node: string; depth?: number } }>(
    '/api/v1/lineage',
    {
      schema: {
        summary: 'The upstream and downstream graph of a node (models:/..., run:ID, dataset:ID)',
        tags: ['lineage'],
        querystring: {
          type: 'object',
          required: ['node'],
          additionalProperties: false,
          properties: {
            node: { type: 'string', maxLength: 300 },
            depth: { type: 'integer', minimum: 1, maximum: 32 },
          },
        },
      },
    },
    async (request) => {
      const root = await node(request.query.node, request.principal, false);
      const graph = await db.lineage.graph(root, request.query.depth);
      // Versions of private models the caller cannot read are left out of the answer.
      const visible = async (id: string) => {
        const match = /^models:\/(.+)\/\d+$/.exec(id);
        if (!match) return true;
        const row = await db.models.find(match[1]!);
        return !!row && (row.visibility === 'public' || allows(request.principal, 'read', row.full_name));
      };
      const prune = async (g: typeof graph.upstream) => {
        const keep = new Set<string>();
        for (const n of g.nodes) if (await visible(n)) keep.add(n);
        return {
          root: g.root,
          nodes: g.nodes.filter((n) => keep.has(n)),
          edges: g.edges.filter((e) => keep.has(e.src) && keep.has(e.dst)),
        };
      };
      return { node: root, upstream: await prune(graph.upstream), downstream: await prune(graph.downstream) };
    },
  );

  /** A node id; `models:/NAME@ALIAS` resolves to the version it points to. */
  async function node(
    text: string,
    principal: Parameters<typeof allows>[0],
    write: boolean,
  ): Promise<string> {
    if (text.startsWith('models:/')) {
      const { model, version } = await resolveUri(db, principal, text);
      if (write) requireScope(principal, 'write', model);
      return versionNode(model, version);
    }
    if (write) requireWriter(principal);
    const match = /^(run|dataset):([0-9a-f]{32})$/.exec(text);
    if (!match)
      throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
        what: `lineage node ${JSON.stringify(text.slice(0, 100))}`,
        reason: 'expected models:/NAME/VERSION, models:/NAME@ALIAS, run:ID or dataset:ID',
      });
    const exists = match[1] === 'run' ? await db.runs.get(match[2]!) : await db.lineage.getDataset(match[2]!);
    if (!exists) throw registryError('FERRY_REGISTRY_NOT_FOUND', { what: match[1]!, name: match[2]! });
    return text;
  }

  app.get<{ Querystring: { target?: string; after?: number; limit?: number } }>(
    '/api/v1/audit',
    {
      schema: {
        summary: 'The audit log: every mutation with actor, time, before and after (admin)',
        tags: ['audit'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            target: { type: 'string', maxLength: 300 },
            after: { type: 'integer', minimum: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
      },
    },
    async (request) => {
      const target = request.query.target;
      const model = target?.startsWith('models:/')
        ? /^models:\/([^@]+?)(?:\/\d+|@.*)?$/.exec(target)?.[1]
        : undefined;
      // Model admins read their model's entries; the whole log needs global admin.
      if (model) requireScope(request.principal, 'admin', await visibleModel(db, request.principal, model));
      else requireScope(request.principal, 'admin', null);
      return {
        entries: await db.audit.list({ target, afterId: request.query.after, limit: request.query.limit }),
      };
    },
  );
}
