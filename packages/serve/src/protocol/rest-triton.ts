import type { FastifyInstance } from 'fastify';
import type { ServerContext } from './context.js';
import { tritonConfig } from './triton-config.js';

type ModelParams = { model: string; version?: string };

/**
 * Triton's model configuration and statistics extensions over REST
 * (extension_model_configuration.md, extension_statistics.md):
 *   GET /v2/models/<m>[/versions/<v>]/config
 *   GET /v2/models[/<m>[/versions/<v>]]/stats
 * An unknown model or version is the same 404 as the model metadata route.
 */
export function registerTritonRoutes(app: FastifyInstance, context: ServerContext): void {
  const { repository, metrics } = context;
  const config = async (req: { params: ModelParams }) =>
    tritonConfig(repository.resolve(req.params.model, req.params.version));
  app.get<{ Params: ModelParams }>('/v2/models/:model/config', config);
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/config', config);

  // Without a model: every version serving; with a model alone: each of its versions serving.
  app.get('/v2/models/stats', async () => ({ model_stats: metrics.stats.of(sorted(repository.all())) }));
  app.get<{ Params: ModelParams }>('/v2/models/:model/stats', async (req) => {
    repository.resolve(req.params.model); // 404 for a model that is not served
    const versions = repository.all().filter((v) => v.model === req.params.model);
    return { model_stats: metrics.stats.of(sorted(versions)) };
  });
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/stats', async (req) => ({
    model_stats: metrics.stats.of([repository.resolve(req.params.model, req.params.version)]),
  }));
}

function sorted<T extends { model: string; version: string }>(versions: T[]): T[] {
  return [...versions].sort((a, b) =>
    a.model === b.model ? Number(a.version) - Number(b.version) : a.model < b.model ? -1 : 1,
  );
}
