import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { detectFormat, type FormatName } from '@ferry/formats';
import type { Backend, EntryPoint } from '@ferry/serving-api';
import { backendByName, backendForFiles } from '../backends/index.js';
import { serveError } from '../errors.js';
import { MAX_MODELS, MAX_VERSIONS } from '../limits.js';
import type { ModelConfig } from '@ferry/serving-api';
import { readModelConfig, selectVersions } from './config.js';

/**
 * Where models come from. A folder repository uses Triton's layout:
 * REPO/<model>/config.yaml (optional) and REPO/<model>/<version>/model.onnx with numeric
 * version folders. A single model file is served as a repository of one model, version 1.
 */
export interface ModelSource {
  /** Model names present now. */
  list(): Promise<string[]>;
  /** What to load for one model: its config and the versions its policy selects. */
  describe(name: string): Promise<ModelPlan>;
  /** Entry points the last list() found but cannot serve (a signature that does not convert), with why. */
  skipped?(): readonly SkippedModel[];
}

export interface SkippedModel {
  readonly name: string;
  readonly reason: string;
}

export interface SourceOptions {
  /** Where converting backends cache their ONNX models (default: defaultCacheDir()). */
  readonly cacheDir?: string;
}

export interface ModelPlan {
  readonly name: string;
  readonly configPath: string;
  readonly config: ModelConfig;
  readonly versions: readonly PlannedVersion[];
  /** Changes when config.yaml changes. */
  readonly configFingerprint: string;
  /** Where converting backends cache their ONNX models. */
  readonly cacheDir?: string;
}

export interface PlannedVersion {
  readonly version: number;
  readonly path: string;
  readonly backend: Backend;
  readonly fingerprint: string;
  /** The entry point this served model is (a SavedModel signature); undefined = the primary one. */
  readonly entry?: string;
}

/** A model name is one folder name: no separators, no dot-folders, nothing to climb out with. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Triton's 1, 2, ... and TF Serving's zero-padded 00000123 (= version 123). */
const VERSION_NAME = /^(?=[0-9]{1,16}$)0*[1-9][0-9]*$/;
/** Joins a model folder and a non-primary entry point: `half_plus_two__regress_x_to_y`. */
export const ENTRY_SEPARATOR = '__';
/** What an entry key may hold to be part of a model name (URL path segment safe, no separators). */
const ENTRY_KEY = /^[A-Za-z0-9_.-]{1,100}$/;

async function fingerprintOf(path: string, backend?: Backend): Promise<string> {
  if (backend?.fingerprint) return backend.fingerprint(path).catch(() => 'absent');
  try {
    const s = await stat(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'absent';
  }
}

export function folderSource(root: string, options: SourceOptions = {}): ModelSource {
  return withEntries(
    {
      async list() {
        const entries = await readdir(root, { withFileTypes: true }).catch((error: Error) => {
          throw serveError('FERRY_SERVE_REPOSITORY', {
            path: root,
            reason: `cannot list the repository: ${error.message}`,
          });
        });
        const names = entries
          .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && MODEL_NAME.test(e.name))
          .map((e) => e.name)
          .sort();
        if (names.length > MAX_MODELS)
          throw serveError('FERRY_SERVE_REPOSITORY', {
            path: root,
            reason: `holds ${names.length} model folders, over the limit of ${MAX_MODELS}`,
          });
        return names;
      },
      async describe(name) {
        if (!MODEL_NAME.test(name))
          throw serveError('FERRY_SERVE_REPOSITORY', {
            path: join(root, '?'),
            reason: `${JSON.stringify(name)} is not a model folder name (letters, digits, _ . -)`,
          });
        const dir = join(root, name);
        const [realRoot, realDir] = await Promise.all([realpath(root), realpath(dir).catch(() => undefined)]);
        if (!realDir) throw serveError('FERRY_SERVE_MODEL_NOT_FOUND', { model: name });
        if (!realDir.startsWith(realRoot + sep))
          throw serveError('FERRY_SERVE_REPOSITORY', {
            path: dir,
            reason: 'the model folder links outside the repository',
          });
        const configPath = join(dir, 'config.yaml');
        const config = await readModelConfig(configPath);
        const entries = await readdir(dir, { withFileTypes: true });
        const folders = new Map<number, string>();
        for (const e of entries) {
          if (!e.isDirectory() || !VERSION_NAME.test(e.name)) continue;
          const other = folders.get(Number(e.name));
          if (other !== undefined)
            throw serveError('FERRY_SERVE_REPOSITORY', {
              path: dir,
              reason: `version folders ${other} and ${e.name} are both version ${Number(e.name)}`,
            });
          folders.set(Number(e.name), e.name);
        }
        const available = [...folders.keys()];
        if (available.length > MAX_VERSIONS)
          throw serveError('FERRY_SERVE_REPOSITORY', {
            path: dir,
            reason: `holds ${available.length} version folders, over the limit of ${MAX_VERSIONS}`,
          });
        const chosen = selectVersions(config.versionPolicy, available);
        if (chosen.length === 0)
          throw serveError('FERRY_SERVE_REPOSITORY', {
            path: dir,
            reason:
              available.length === 0
                ? 'no numeric version folders (expected e.g. 1/model.onnx)'
                : `version_policy selects none of the versions present (${available.join(', ')})`,
          });
        const versions = [];
        for (const version of chosen) {
          const versionDir = join(dir, folders.get(version)!);
          const files = await readdir(versionDir);
          let found: { backend: Backend; file: string } | undefined;
          if (config.backend !== undefined) {
            const backend = backendByName(config.backend);
            if (!backend)
              throw serveError('FERRY_SERVE_CONFIG', {
                path: configPath,
                field: 'backend',
                reason: `unknown backend ${JSON.stringify(config.backend)}`,
              });
            const file = backend.fileNames.find((f) => files.includes(f));
            if (file) found = { backend, file };
          } else found = backendForFiles(files);
          if (!found)
            throw serveError('FERRY_SERVE_REPOSITORY', {
              path: versionDir,
              reason: 'no model file a backend serves (expected model.onnx)',
            });
          const path = join(versionDir, found.file);
          versions.push({
            version,
            path,
            backend: found.backend,
            fingerprint: await fingerprintOf(path, found.backend),
          });
        }
        return { name, configPath, config, versions, configFingerprint: await fingerprintOf(configPath) };
      },
    },
    options,
  );
}

/** Formats whose files a backend serves under any name (the bytes say which, not the extension). */
const BACKEND_BY_FORMAT: Readonly<Partial<Record<FormatName, string>>> = {
  onnx: 'onnxruntime',
  torchscript: 'torchscript',
  pickle: 'sklearn',
  joblib: 'sklearn',
  lightgbm: 'sklearn',
  tfgraph: 'tfgraph',
};

/** The backend for a single file named other than model.onnx/model.pt/...: from its detected format. */
async function backendForContent(file: string): Promise<Backend | undefined> {
  const format = await detectFormat(file).catch(() => undefined);
  return backendByName((format && BACKEND_BY_FORMAT[format]) ?? 'onnxruntime');
}

/**
 * `ferry serve model.onnx`: one model named after the file, version 1, with `<file>.yaml` as its
 * config if present. `name` overrides the name (a SavedModel folder is named after itself, or
 * after its parent when it is a TF Serving version folder like 00000123).
 */
export function fileSource(file: string, options: SourceOptions & { name?: string } = {}): ModelSource {
  const backendMatch = backendForFiles([basename(file)]);
  const stem = basename(file).replace(/\.[^.]+$/, '');
  const name = options.name ?? (stem.replace(/[^A-Za-z0-9_.-]/g, '_') || 'model');
  const configPath = join(dirname(file), `${stem}.yaml`);
  return withEntries(
    {
      async list() {
        return [name];
      },
      async describe(requested) {
        if (requested !== name) throw serveError('FERRY_SERVE_MODEL_NOT_FOUND', { model: requested });
        const config = await readModelConfig(configPath);
        const backend = config.backend
          ? backendByName(config.backend)
          : (backendMatch?.backend ?? (await backendForContent(file)));
        if (!backend)
          throw serveError('FERRY_SERVE_CONFIG', {
            path: configPath,
            field: 'backend',
            reason: `unknown backend ${config.backend}`,
          });
        return {
          name,
          configPath,
          config,
          versions: [{ version: 1, path: file, backend, fingerprint: await fingerprintOf(file, backend) }],
          configFingerprint: await fingerprintOf(configPath),
        };
      },
    },
    options,
  );
}

/**
 * What `ferry serve PATH` serves: a model file; a SavedModel folder (holding saved_model.pb, or
 * named *.savedmodel) as one model; any other folder as a repository.
 */
export async function sourceFor(path: string, options: SourceOptions = {}): Promise<ModelSource> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw serveError('FERRY_SERVE_REPOSITORY', { path, reason: 'no such file or folder' });
  if (!info.isDirectory()) return fileSource(path, options);
  const clean = path.replace(/[\\/]+$/, '') || path;
  const pb = join(clean, 'saved_model.pb');
  if (
    await stat(pb).then(
      (s) => s.isFile(),
      () => false,
    )
  ) {
    // TF Serving exports to <model>/<version>/: a numeric folder is named after its parent
    const own = basename(clean);
    const base = VERSION_NAME.test(own) ? basename(dirname(clean)) : own;
    const name = base.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+/, '') || 'model';
    return fileSource(pb, { ...options, name });
  }
  if (clean.endsWith('.savedmodel')) return fileSource(clean, options);
  return folderSource(clean, options);
}

/** A model folder (or file) before its entry points are expanded into served models. */
interface BaseSource {
  list(): Promise<string[]>;
  describe(name: string): Promise<ModelPlan>;
}

/**
 * Serves each entry point of a multi-entry model (a SavedModel's signatures) as its own model:
 * the primary entry as `<model>`, the others as `<model>__<key>`. A slash cannot be part of a
 * model name that v2 clients can call (tritonclient quotes the name with `/` kept, and
 * `/v2/models/a/b/infer` would not route), so `__` joins them. Entries that cannot be served are
 * kept with their reason (skipped()) and never stop the others.
 */
function withEntries(base: BaseSource, options: SourceOptions): ModelSource {
  let routes = new Map<string, { model: string; entry: string }>();
  let skipped: SkippedModel[] = [];
  const list = async (): Promise<string[]> => {
    const models = await base.list();
    const taken = new Set(models);
    const names: string[] = [];
    const nextRoutes = new Map<string, { model: string; entry: string }>();
    const nextSkipped: SkippedModel[] = [];
    for (const model of models) {
      let plan: ModelPlan;
      try {
        plan = await base.describe(model);
      } catch {
        names.push(model); // listed as is: loading it reports what is wrong
        continue;
      }
      const newest = plan.versions[plan.versions.length - 1];
      if (!newest?.backend.entries) {
        names.push(model);
        continue;
      }
      let entries: EntryPoint[];
      try {
        // config.yaml's tensors too: a frozen graph converts with the inputs/outputs it names
        entries = await newest.backend.entries(newest.path, {
          ...options,
          inputs: plan.config.inputs,
          outputs: plan.config.outputs,
        });
      } catch {
        names.push(model);
        continue;
      }
      for (const entry of entries) {
        const served = entry.primary ? model : `${model}${ENTRY_SEPARATOR}${entry.key}`;
        const reason =
          entry.skipped ??
          (!entry.primary && !ENTRY_KEY.test(entry.key)
            ? `signature ${JSON.stringify(entry.key)} holds characters a model name cannot (letters, digits, _ . -)`
            : !entry.primary && taken.has(served)
              ? `a model folder is already named ${served}`
              : undefined);
        if (reason !== undefined) {
          nextSkipped.push({ name: served, reason });
          continue;
        }
        names.push(served);
        nextRoutes.set(served, { model, entry: entry.key });
      }
    }
    routes = nextRoutes;
    skipped = nextSkipped;
    return names;
  };
  return {
    list,
    skipped: () => skipped,
    async describe(name) {
      if (!routes.has(name) && name.includes(ENTRY_SEPARATOR)) await list();
      const route = routes.get(name);
      const plan = await base.describe(route?.model ?? name);
      return {
        ...plan,
        name,
        ...(options.cacheDir !== undefined && { cacheDir: options.cacheDir }),
        versions: route ? plan.versions.map((v) => ({ ...v, entry: route.entry })) : plan.versions,
      };
    },
  };
}
