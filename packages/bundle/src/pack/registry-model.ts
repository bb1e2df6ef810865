import { join } from 'node:path';
import { isFerryError } from '@ferry/formats';
import { formatModelUri, type RegistryClient } from '@ferry/registry-client';
import { bundleError, isBundleError } from '../errors.js';
import type { BundleModel } from '../manifest/schema.js';
import type { ManifestModel } from './bundle-manifest.js';
import { collectFiles, type PackFile } from './collect.js';
import { checkModelScan, type ModelScanner } from './scan-model.js';

/** A model that ferry.yaml names by `ref: models:/...`. */
export type RefModel = Extract<BundleModel, { ref: string }>;

/** Where pack puts a registry model's files: one folder per model, the version's own paths below. */
export function registryModelFolder(name: string): string {
  return `models/${name}`;
}

/** Called as a registry model's files download: bytes so far, of all its files, and the file now. */
export type DownloadProgress = (model: string, done: number, total: number, path: string) => void;

export interface FetchRegistryModel {
  readonly model: RefModel;
  /** ferry.yaml's path, which errors name (the reference is written there). */
  readonly specFile: string;
  /** A fresh temp folder of pack's own: the files land in TEMP/models/NAME/, pack removes it. */
  readonly temp: string;
  readonly registry: RegistryClient | undefined;
  readonly scan: ModelScanner;
  readonly into: PackFile[];
  readonly onProgress?: DownloadProgress;
}

/**
 * Resolves a registry reference to one concrete version (an alias is read once, here), refuses a
 * version that is not ready or that the registry's scan marks unsafe, downloads its files with
 * RegistryClient.pull (each verified against its sha256), scans them with the scanner local models
 * get, and adds them to the pack under models/NAME/. Returns the manifest entry: the bundle path
 * plus the provenance (the reference, the version number and every file's sha256).
 */
export async function fetchRegistryModel(options: FetchRegistryModel): Promise<ManifestModel> {
  const { model, specFile, temp, registry } = options;
  const where = { path: specFile, model: model.name, ref: model.ref };
  if (!registry)
    throw bundleError('FERRY_BUNDLE_REF', {
      ...where,
      reason:
        'a registry reference needs a registry to resolve it (ferry pack --registry URL, or FERRY_REGISTRY)',
    });
  // Every registry answer that is not a success becomes one line naming the model and the reference.
  const ask = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (isBundleError(error)) throw error;
      const code = isFerryError(error) ? error.code : (error as { code?: unknown }).code;
      const message = (error as Error).message;
      if (isFerryError(error) && error.code === 'FERRY_REGISTRY_BACKEND') {
        // the client's message repeats the URL the template already names; its reason is enough
        const reason = error.params.reason;
        throw bundleError(
          'FERRY_BUNDLE_REF_UNREACHABLE',
          { ...where, registry: registry.url, reason: typeof reason === 'string' ? reason : message },
          error,
        );
      }
      throw bundleError(
        'FERRY_BUNDLE_REF',
        { ...where, reason: typeof code === 'string' ? `${code}: ${message}` : message },
        error,
      );
    }
  };
  const resolved = await ask(() => registry.resolve(model.ref));
  const info = await ask(() => registry.getVersion(resolved.model, resolved.version));
  if (info.status !== 'ready')
    throw bundleError('FERRY_BUNDLE_REF', {
      ...where,
      reason: `version ${info.version} is ${info.status}, not ready (only a committed version with all its files is packed)`,
    });
  if (info.scan === 'unsafe')
    throw bundleError('FERRY_BUNDLE_UNSAFE_VERSION', {
      ...where,
      version: info.version,
      reason: info.scanDetail ?? 'no detail given',
    });
  const folder = registryModelFolder(model.name);
  // The version by number, not the alias again: an alias moved meanwhile cannot mix two versions.
  const pinned = formatModelUri({ model: resolved.model, version: resolved.version });
  const pulled = await ask(() =>
    // force: a version the scan could not judge (error, unknown) is downloaded to be judged here;
    // pack's own scan below refuses whatever it cannot read or finds unsafe (unsafe stopped above).
    registry.pull(pinned, join(temp, ...folder.split('/')), {
      force: true,
      ...(options.onProgress && {
        onProgress: (done, total, path) => options.onProgress!(model.name, done, total, path),
      }),
    }),
  );
  await collectFiles(temp, folder, 'model', options.into);
  const files = [...pulled.files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  // One file is the model itself; several (ONNX with external data, SavedModel) are the folder.
  const path = files.length === 1 ? `${folder}/${files[0]!.path}` : folder;
  const result = await options.scan(join(temp, ...path.split('/')));
  const findings = checkModelScan(result, model, {
    shown: `${specFile}: ${model.ref} (version ${pulled.version})`,
    hostPrefix: `${temp}/`,
    temporary: true,
  });
  return {
    name: model.name,
    format: model.format,
    path,
    ref: model.ref,
    version: pulled.version,
    files: files.map((f) => ({ path: f.path, sha256: f.sha256 })),
    findings,
  };
}
