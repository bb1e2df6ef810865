import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';

/** Runs a page shows at most at once (the web UI's runs list pages through the rest). */
const MAX_RUNS_PAGE = 1000;

/**
 * GET /api/v1/runs: the runs, newest first, a page at a time (the web UI's runs list; run
 * comparison then reads each chosen run whole from GET /api/v1/runs/ID). Readable by whoever may
 * read a run, as GET /api/v1/runs/ID is.
 */
export function runListRoutes(app: FastifyInstance, { db }: ApiContext): void {
  app.get<{ Querystring: { limit?: number; offset?: number } }>(
    '/api/v1/runs',
    {
      schema: {
        summary: 'List runs, newest first (without params and metrics)',
        tags: ['lineage'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: MAX_RUNS_PAGE, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
      },
    },
    async (request) => db.runs.list({ limit: request.query.limit ?? 100, offset: request.query.offset ?? 0 }),
  );
}
