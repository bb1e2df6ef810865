import { copyFile, link, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOciReference, type OciCredentials } from '@ferry/registry-client';
import { stringify } from 'yaml';
import { bundleError } from '../errors.js';
import { loadBundleSpec } from '../manifest/load.js';
import type { ServingConfig } from '../manifest/schema.js';
import type { BundleManifest } from '../pack/bundle-manifest.js';
import { pullBundle } from '../oci/pull.js';
import { defaultSignaturePath } from '../sign/sign.js';
import type { VerifyResult } from '../sign/verify.js';
import { unpackBundle } from '../unpack/unpack.js';

export interface PrepareServeOptions {
  /** Verify the signature with this key before anything is unpacked. */
  readonly publicKey?: string;
  /** The signature of a local bundle (default BUNDLE.sig); an oci:// bundle's comes from its referrer. */
  readonly signature?: string;
  /** Refuse a bundle that has no signature (needs publicKey). */
  readonly requireSignature?: boolean;
  readonly credentials?: OciCredentials;
}

export interface PreparedBundle {
  /** The temp folder holding everything (pulled bundle, unpacked files, model repository). */
  readonly root: string;
  /** A model repository in ferry serve's layout (REPO/<model>/config.yaml, REPO/<model>/1/model.*). */
  readonly repository: string;
  /** The unpacked bundle. */
  readonly directory: string;
  readonly manifest: BundleManifest;
  /** The handler module for each model, when the bundle has one. */
  readonly handlers: readonly { model: string; module: string; threads: number }[];
  readonly verified?: VerifyResult;
  /** Removes the temp folder. */
  cleanup(): Promise<void>;
}

/** The file name ferry serve's backends look for, by bundle model format. */
const SERVED_FILE: Readonly<Record<string, string>> = {
  onnx: 'model.onnx',
  torchscript: 'model.pt',
  // scikit-learn / XGBoost estimators: converted to ONNX-ML at load by serve's sklearn backend
  joblib: 'model.joblib',
  pickle: 'model.pkl',
};

/**
 * Gets a bundle ready for `ferry serve`: pulls it (oci://), verifies the signature (required with
 * requireSignature), unpacks it with unpackBundle (every entry checked for tar slip, links and
 * devices, every digest checked) and lays its models out as a model repository with the bundle's
 * serving config. Everything is written inside one fresh temp folder, removed again on any failure,
 * so a refused bundle leaves nothing behind.
 */
export async function prepareBundleServe(
  source: string,
  options: PrepareServeOptions = {},
): Promise<PreparedBundle> {
  if (options.requireSignature && !options.publicKey)
    throw bundleError('FERRY_BUNDLE_UNSIGNED', {
      reference: source,
      rule: '--require-signature needs the public key to verify with (--pub)',
    });
  const root = await mkdtemp(join(tmpdir(), 'ferry-serve-'));
  const cleanup = () => rm(root, { recursive: true, force: true });
  try {
    let bundlePath = source;
    let signature = options.signature;
    if (isOciReference(source)) {
      const pulled = await pullBundle(source, join(root, 'pulled'), {
        ...(options.credentials && { credentials: options.credentials }),
        ...(options.publicKey && { publicKey: options.publicKey }),
      });
      bundlePath = pulled.bundle;
      signature = pulled.signature;
      if (!signature && options.requireSignature)
        throw bundleError('FERRY_BUNDLE_UNSIGNED', {
          reference: source,
          rule: 'the registry holds no signature referrer for this manifest, and --require-signature was given',
        });
    } else if (options.requireSignature) {
      const path = signature ?? defaultSignaturePath(source);
      if (!(await stat(path).catch(() => undefined)))
        throw bundleError('FERRY_BUNDLE_UNSIGNED', {
          reference: source,
          rule: `no signature file ${path}, and --require-signature was given`,
        });
    }
    const directory = join(root, 'bundle');
    const unpacked = await unpackBundle(bundlePath, directory, {
      ...(options.publicKey && { publicKey: options.publicKey }),
      ...(signature && { signature }),
    });
    const manifest = unpacked.manifest;
    const spec = await loadBundleSpec(directory);
    const repository = join(root, 'repository');
    const config = servingConfigYaml(spec.serving);
    for (const model of manifest.models) {
      const fail = (rule: string) =>
        bundleError('FERRY_BUNDLE_SERVE', { path: source, rule: `model ${model.name}: ${rule}` });
      if (!model.path)
        throw fail(
          `${model.ref} is a registry reference this bundle does not carry (it was packed before ferry pack resolved references); pack the project again with ferry pack --registry URL`,
        );
      const file = SERVED_FILE[model.format];
      if (!file)
        throw fail(
          `format ${model.format} is not served (ferry serve runs onnx, torchscript and scikit-learn joblib/pickle models; ferry convert makes ONNX)`,
        );
      // A model of several files (a folder) has no single file for the backends to load.
      if (!manifest.files.some((f) => f.path === model.path && f.role === 'model'))
        throw fail(`${model.path} is a folder; ferry serve runs a model that is one file`);
      const versionDir = join(repository, model.name, '1');
      await mkdir(versionDir, { recursive: true });
      await writeFile(join(repository, model.name, 'config.yaml'), config);
      const from = join(directory, ...model.path.split('/'));
      // A hard link costs no copy (same temp folder); a file system without links gets a copy.
      await link(from, join(versionDir, file)).catch(() => copyFile(from, join(versionDir, file)));
    }
    const threads = spec.serving.instances?.count ?? 2;
    const handlers = manifest.handler
      ? manifest.models.map((m) => ({
          model: m.name,
          module: join(directory, ...manifest.handler!.entry.split('/')),
          threads,
        }))
      : [];
    return {
      root,
      repository,
      directory,
      manifest,
      handlers,
      ...(unpacked.verified && { verified: unpacked.verified }),
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** The bundle's serving block as ferry serve's config.yaml (the same names, Triton's). */
function servingConfigYaml(serving: ServingConfig): string {
  const db = serving.dynamicBatching;
  const inst = serving.instances;
  const doc = {
    ...(serving.maxBatchSize !== undefined && { max_batch_size: serving.maxBatchSize }),
    ...(db && {
      dynamic_batching: {
        ...(db.maxQueueDelayUs !== undefined && { max_queue_delay_us: db.maxQueueDelayUs }),
        ...(db.preferredBatchSizes !== undefined && { preferred_batch_sizes: [...db.preferredBatchSizes] }),
        ...(db.maxQueueSize !== undefined && { max_queue_size: db.maxQueueSize }),
        ...(db.defaultTimeoutUs !== undefined && { default_timeout_us: db.defaultTimeoutUs }),
      },
    }),
    ...(inst && {
      instances: {
        ...(inst.count !== undefined && { count: inst.count }),
        ...(inst.intraOpThreads !== undefined && { intra_op_threads: inst.intraOpThreads }),
        ...(inst.interOpThreads !== undefined && { inter_op_threads: inst.interOpThreads }),
        ...(inst.allowSpinning !== undefined && { allow_spinning: inst.allowSpinning }),
        ...(inst.placement !== undefined && { placement: inst.placement }),
      },
    }),
  };
  return stringify(doc);
}
