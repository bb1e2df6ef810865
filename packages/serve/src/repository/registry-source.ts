import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isFerryError } from '@ferry/formats';
import type { Deployment, RegistryClient } from '@ferry/registry-client';
import type { Backend } from '@ferry/serving-api';
import { BACKENDS, backendForFiles } from '../backends/index.js';
import { isServeError, serveError } from '../errors.js';
import { MAX_MODELS } from '../limits.js';
import type { ModelConfig } from '@ferry/serving-api';
import { parseModelConfig, readModelConfig } from './config.js';
import type { ModelPlan, ModelSource } from './layout.js';

/** A deployment as the server needs it: the served name, the alias it follows, its serving config. */
export interface DeploymentSpec {
  readonly name: string;
  readonly model: string;
  readonly alias: string;
  readonly config?: Record<string, unknown> | null;
}

export interface RegistrySourceOptions {
  readonly client: RegistryClient;
  /** Where each version's files are downloaded (and verified) before loading: CACHE/<model>/<version>/. */
  readonly cacheDir: string;
  /** Serve exactly these; without them, every deployment the registry lists (new ones appear on the next poll). */
  readonly deployments?: readonly DeploymentSpec[];
}

/** Served names follow the v2 protocol's model name rule (one URL segment). */
const SERVED_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The default served name of `models:/NAME@ALIAS`: the model name with its `/` as `-`. */
export function deploymentName(model: string): string {
  return model.replace(/\//g, '-');
}

/**
 * Models from a ferry registry: each deployment is `models:/MODEL@ALIAS`. describe() resolves the
 * alias (one registry call: polling follows the alias), downloads the version's files into the
 * cache verifying each sha256 (the registry client's pull; a version scanned unsafe is refused),
 * and plans that one version under its registry version number, so model metadata's `versions`
 * says which version is live and a moved alias is a changed plan (reload, warm, swap, drain).
 */
export function registrySource(options: RegistrySourceOptions): ModelSource & {
  /** The deployment a served name stands for (after list() or describe()). */
  deployment(name: string): DeploymentSpec | undefined;
} {
  const { client, cacheDir } = options;
  const known = new Map<string, DeploymentSpec>();
  for (const d of options.deployments ?? []) known.set(d.name, d);
  /** Plans already built, so an unchanged alias costs one call and no disk reads. */
  const plans = new Map<string, { key: string; plan: ModelPlan }>();
  /** One describe per name at a time: a poll and an event-driven poll must not download into one folder together. */
  const busy = new Map<string, Promise<unknown>>();

  const lookup = async (name: string): Promise<DeploymentSpec> => {
    if (options.deployments) {
      const fixed = known.get(name);
      if (!fixed) throw serveError('FERRY_SERVE_MODEL_NOT_FOUND', { model: name });
      return fixed;
    }
    const found: Deployment = await client.getDeployment(name).catch((error: Error) => {
      if (isFerryError(error) && error.http === 404)
        throw serveError('FERRY_SERVE_MODEL_NOT_FOUND', { model: name });
      throw registryFailure(`deployment ${name}`, error);
    });
    const spec = { name, model: found.model, alias: found.alias, config: found.config };
    known.set(name, spec);
    return spec;
  };

  return {
    deployment: (name) => known.get(name),
    async list() {
      if (options.deployments) return options.deployments.map((d) => d.name);
      const all = await client.listDeployments().catch((error: Error) => {
        throw registryFailure('deployments', error);
      });
      if (all.length > MAX_MODELS)
        throw serveError('FERRY_SERVE_REPOSITORY', {
          path: `${client.url}/api/v1/deployments`,
          reason: `lists ${all.length} deployments, over the limit of ${MAX_MODELS}`,
        });
      const names = [];
      for (const d of all) {
        if (!SERVED_NAME.test(d.name)) continue;
        known.set(d.name, { name: d.name, model: d.model, alias: d.alias, config: d.config });
        names.push(d.name);
      }
      return names.sort();
    },
    describe(name) {
      const previous = busy.get(name) ?? Promise.resolve();
      const task = previous.then(() => describeNow(name));
      busy.set(
        name,
        task.catch(() => undefined),
      );
      return task;
    },
  };

  async function describeNow(name: string): Promise<ModelPlan> {
    const spec = await lookup(name);
    const uri = `models:/${spec.model}@${spec.alias}`;
    const { version } = await client.resolve(uri).catch((error: Error) => {
      throw registryFailure(uri, error);
    });
    const key = `${spec.model}/${version}|${JSON.stringify(spec.config ?? null)}`;
    const cached = plans.get(name);
    if (cached?.key === key) return cached.plan;
    const dir = join(cacheDir, spec.model.replace(/\//g, '--'), String(version));
    await mkdir(dir, { recursive: true });
    // pull verifies every file's sha256 (a mismatch is an error, never a loaded model)
    const pulled = await client.pull(`models:/${spec.model}/${version}`, dir).catch((error: Error) => {
      throw registryFailure(`${uri} (version ${version})`, error);
    });
    const top = await readdir(dir);
    const configPath = join(dir, 'config.yaml');
    const config: ModelConfig = spec.config
      ? parseModelConfig(spec.config, `deployment ${name} config`)
      : await readModelConfig(configPath);
    const found = modelFileOf(top, config);
    if (!found)
      throw serveError('FERRY_SERVE_REPOSITORY', {
        path: `${uri} (version ${version})`,
        reason: `no model file a backend serves among ${top.filter((f) => !f.endsWith('.partial')).join(', ') || 'no files'} (expected model.onnx or a single .onnx file)`,
      });
    const plan: ModelPlan = {
      name,
      configPath: spec.config ? `deployment ${name} config` : configPath,
      config,
      versions: [
        {
          version,
          path: join(dir, found.file),
          backend: found.backend,
          fingerprint: `${spec.model}/${version}@${pulled.digest ?? ''}`,
        },
      ],
      configFingerprint: JSON.stringify(spec.config ?? null),
    };
    plans.set(name, { key, plan });
    return plan;
  }
}

/** The backend's own file name, else the one file with a backend's extension (`ferry push mlp.onnx`). */
function modelFileOf(
  files: readonly string[],
  config: ModelConfig,
): { backend: Backend; file: string } | undefined {
  const candidates = config.backend ? BACKENDS.filter((b) => b.name === config.backend) : BACKENDS;
  const exact = backendForFiles(files);
  if (exact && candidates.includes(exact.backend)) return exact;
  for (const backend of candidates) {
    const extensions = new Set(backend.fileNames.map((f) => f.slice(f.lastIndexOf('.'))));
    const matching = files.filter((f) => extensions.has(f.slice(f.lastIndexOf('.'))));
    if (matching.length === 1) return { backend, file: matching[0]! };
  }
  return undefined;
}

function registryFailure(what: string, error: Error): Error {
  if (isServeError(error)) return error;
  const code = (error as { code?: unknown }).code;
  return serveError('FERRY_SERVE_REPOSITORY', {
    path: what,
    reason: `${typeof code === 'string' ? `${code}: ` : ''}${error.message}`,
  });
}
