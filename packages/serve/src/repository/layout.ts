import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { type Backend, backendByName, backendForFiles } from '../backends/index.js';
import { serveError } from '../errors.js';
import { MAX_MODELS, MAX_VERSIONS } from '../limits.js';
import { type ModelConfig, readModelConfig, selectVersions } from './config.js';

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
}

export interface ModelPlan {
  readonly name: string;
  readonly configPath: string;
  readonly config: ModelConfig;
  readonly versions: readonly { version: number; path: string; backend: Backend; fingerprint: string }[];
  /** Changes when config.yaml changes. */
  readonly configFingerprint: string;
}

/** A model name is one folder name: no separators, no dot-folders, nothing to climb out with. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const VERSION_NAME = /^[1-9][0-9]{0,15}$/;

async function fingerprintOf(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'absent';
  }
}

export function folderSource(root: string): ModelSource {
  return {
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
      const available = entries
        .filter((e) => e.isDirectory() && VERSION_NAME.test(e.name))
        .map((e) => Number(e.name));
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
        const versionDir = join(dir, String(version));
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
        versions.push({ version, path, backend: found.backend, fingerprint: await fingerprintOf(path) });
      }
      return { name, configPath, config, versions, configFingerprint: await fingerprintOf(configPath) };
    },
  };
}

/** `ferry serve model.onnx`: one model named after the file, version 1, with `<file>.yaml` as its config if present. */
export function fileSource(file: string): ModelSource {
  const backendMatch = backendForFiles([basename(file)]);
  const name =
    basename(file)
      .replace(/\.[^.]+$/, '')
      .replace(/[^A-Za-z0-9_.-]/g, '_') || 'model';
  const configPath = join(dirname(file), `${basename(file).replace(/\.[^.]+$/, '')}.yaml`);
  return {
    async list() {
      return [name];
    },
    async describe(requested) {
      if (requested !== name) throw serveError('FERRY_SERVE_MODEL_NOT_FOUND', { model: requested });
      const config = await readModelConfig(configPath);
      const backend = config.backend
        ? backendByName(config.backend)
        : (backendMatch?.backend ?? backendByName('onnxruntime'));
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
        versions: [{ version: 1, path: file, backend, fingerprint: await fingerprintOf(file) }],
        configFingerprint: await fingerprintOf(configPath),
      };
    },
  };
}
