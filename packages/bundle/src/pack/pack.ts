import { mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { RegistryClient } from '@ferry/registry-client';
import { bundleError } from '../errors.js';
import { writeFileAtomic } from '../io.js';
import { MAX_HANDLER_BYTES } from '../limits.js';
import { loadBundleSpec, projectEntries } from '../manifest/load.js';
import { type BundleSpec, SPEC_FILE } from '../manifest/schema.js';
import { TarWriter } from '../tar/writer.js';
import {
  type BundleManifest,
  encodeManifest,
  MANIFEST_MEDIA_TYPE,
  MANIFEST_PATH,
  type ManifestFile,
  type ManifestModel,
} from './bundle-manifest.js';
import { collectFiles, collectInstalled, type PackFile } from './collect.js';
import { checkHandlerExports, compiledPath, compileHandler } from './handler.js';
import { installDependencies } from './npm-deps.js';
import { type DownloadProgress, fetchRegistryModel, registryModelFolder } from './registry-model.js';
import { checkModelScan, type ModelScanner, scanModelFile } from './scan-model.js';

export interface PackOptions {
  /** The bundle file to write; default `NAME-VERSION.ferry` in the current folder. */
  readonly output?: string;
  /** How model files are scanned (default: scanModelFile). */
  readonly scan?: ModelScanner;
  /**
   * Resolves `ref: models:/...` models: each is pinned to a version, downloaded (sha256 verified),
   * scanned and packed. Without it a ferry.yaml with a reference fails (FERRY_BUNDLE_REF).
   */
  readonly registry?: RegistryClient;
  /** Called as a registry model's files download, for a progress bar. */
  readonly onDownload?: DownloadProgress;
  /** Called as files are written, for a progress bar. */
  readonly onProgress?: (doneBytes: number, totalBytes: number, path: string) => void;
}

export interface PackResult {
  readonly path: string;
  readonly name: string;
  readonly version: string;
  readonly files: number;
  /** Sum of the packed files' sizes (the archive adds headers and padding). */
  readonly bytes: number;
  readonly manifest: BundleManifest;
}

/**
 * Packs a project folder into a bundle: checks ferry.yaml and every file it names, scans every
 * local model, pins every registry model to a version and packs its files under models/NAME/
 * (an unsafe or unreadable model stops the pack before anything is written), installs
 * the handler's npm dependencies from its lock file, and writes a reproducible tar whose last
 * entry is .ferry/manifest.json. The same inputs give the same bytes.
 */
export async function packBundle(dir: string, options: PackOptions = {}): Promise<PackResult> {
  const root = await realpath(dir).catch((error: NodeJS.ErrnoException) => {
    throw bundleError('FERRY_BUNDLE_IO', { path: dir, reason: error.message }, error);
  });
  const spec = await loadBundleSpec(root);
  const files: PackFile[] = [];
  let npmDir: string | undefined;
  let generatedDir: string | undefined;
  // Registry models download here; realpath because collectFiles checks links against the root.
  const temp = spec.models.some((m) => 'ref' in m)
    ? await realpath(await mkdtemp(join(tmpdir(), 'ferry-pack-ref-')))
    : undefined;
  try {
    const models = await packModels(root, spec, temp, files, options);
    for (const entry of projectEntries(spec)) {
      await collectFiles(root, entry.path, entry.role, files);
    }
    if (spec.handler?.lockfile) {
      const pkg = spec.handler.lockfile.replace(/package-lock\.json$/, 'package.json');
      await collectFiles(root, pkg, 'lockfile', files);
    }
    checkRegistryFolders(root, spec, temp, files);
    const handler = spec.handler ? await prepareHandler(root, spec.handler.module, files) : undefined;
    if (handler?.compiled) generatedDir = handler.compiled.dir;
    if (spec.handler?.lockfile) {
      npmDir = await installDependencies(join(root, spec.handler.lockfile));
      const installed = await stat(join(npmDir, 'node_modules')).then(
        () => true,
        () => false,
      );
      if (installed) {
        const lockDir = dirname(spec.handler.lockfile);
        const prefix = lockDir === '.' ? '' : `${lockDir}/`;
        const deps: PackFile[] = [];
        await collectInstalled(npmDir, 'node_modules', deps);
        for (const dep of deps) files.push({ ...dep, path: `${prefix}${dep.path}` });
      }
    }
    return await writeBundle(spec, models, files, handler?.entry, options);
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
    if (npmDir) await rm(npmDir, { recursive: true, force: true });
    if (generatedDir) await rm(generatedDir, { recursive: true, force: true });
  }
}

/**
 * Checks the handler's exports (from its syntax, nothing runs) and, for TypeScript, adds the
 * compiled module beside it as a generated file. Returns the module the server imports.
 */
async function prepareHandler(
  root: string,
  module: string,
  files: PackFile[],
): Promise<{ entry: string; compiled?: { dir: string } }> {
  const full = join(root, module);
  const size = (await stat(full)).size;
  if (size > MAX_HANDLER_BYTES)
    throw bundleError('FERRY_BUNDLE_LIMIT', {
      path: full,
      what: 'the handler module',
      value: size,
      limit: MAX_HANDLER_BYTES,
      reason: 'MAX_HANDLER_BYTES, CWE-400',
    });
  const source = await readFile(full, 'utf8');
  checkHandlerExports(source, full);
  const output = compiledPath(module);
  if (!output) return { entry: module };
  if (files.some((f) => f.path === output))
    throw bundleError('FERRY_BUNDLE_HANDLER', {
      path: full,
      rule: `compiles to ${output}, which the project already names; rename one of them`,
    });
  const code = compileHandler(source, full);
  const dir = await mkdtemp(join(tmpdir(), 'ferry-handler-'));
  const file = join(dir, 'handler.mjs');
  await writeFile(file, code);
  files.push({
    path: output,
    source: file,
    size: Buffer.byteLength(code),
    executable: false,
    role: 'generated',
  });
  return { entry: output, compiled: { dir } };
}

/**
 * Scans every local model and fetches every registry model (downloads land in `temp`, which the
 * caller removes). The manifest entries keep ferry.yaml's order.
 */
async function packModels(
  root: string,
  spec: BundleSpec,
  temp: string | undefined,
  files: PackFile[],
  options: PackOptions,
): Promise<ManifestModel[]> {
  const scan = options.scan ?? scanModelFile;
  const out: ManifestModel[] = [];
  for (const model of spec.models) {
    if ('ref' in model) {
      out.push(
        await fetchRegistryModel({
          model,
          specFile: join(root, SPEC_FILE),
          temp: temp!,
          registry: options.registry,
          scan,
          into: files,
          ...(options.onDownload && { onProgress: options.onDownload }),
        }),
      );
      continue;
    }
    const full = join(root, model.path);
    const findings = checkModelScan(await scan(full), model, {
      shown: full,
      hostPrefix: `${root}/`,
      temporary: false,
    });
    out.push({ name: model.name, format: model.format, path: model.path, findings });
  }
  return out;
}

/** A project file where pack puts a registry model's files would collide with them (or hide inside). */
function checkRegistryFolders(
  root: string,
  spec: BundleSpec,
  temp: string | undefined,
  files: readonly PackFile[],
): void {
  for (const model of spec.models) {
    if (!('ref' in model)) continue;
    const folder = registryModelFolder(model.name);
    const clash = files.find(
      (f) =>
        !(temp && f.source.startsWith(`${temp}/`)) && (f.path === folder || f.path.startsWith(`${folder}/`)),
    );
    if (clash)
      throw bundleError('FERRY_BUNDLE_UNSAFE_ENTRY', {
        path: join(root, SPEC_FILE),
        entry: JSON.stringify(clash.path),
        rule: `is inside ${folder}/, where ferry pack puts the files of registry model ${model.name} (${model.ref}); move it`,
      });
  }
}

/** Byte order of the UTF-8 paths: the same on every machine and locale. */
function comparePaths(a: PackFile, b: PackFile): number {
  return Buffer.compare(Buffer.from(a.path, 'utf8'), Buffer.from(b.path, 'utf8'));
}

async function writeBundle(
  spec: BundleSpec,
  models: readonly ManifestModel[],
  files: PackFile[],
  handlerEntry: string | undefined,
  options: PackOptions,
): Promise<PackResult> {
  files.sort(comparePaths);
  for (let i = 1; i < files.length; i++)
    if (files[i]!.path === files[i - 1]!.path)
      throw bundleError('FERRY_BUNDLE_UNSAFE_ENTRY', {
        path: files[i]!.source,
        entry: JSON.stringify(files[i]!.path),
        rule: 'would be packed twice (named by two fields of ferry.yaml)',
      });
  const output = resolve(options.output ?? `${spec.name}-${spec.version}.ferry`);
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const written: ManifestFile[] = [];
  let manifest: BundleManifest | undefined;
  await writeFileAtomic(output, async (file) => {
    const tar = new TarWriter(file);
    let done = 0;
    for (const f of files) {
      const entry = await tar.addFile(f.path, f.executable, f.source, f.size);
      written.push({
        path: entry.path,
        size: entry.size,
        sha256: entry.sha256,
        mode: entry.mode === 0o755 ? '0755' : '0644',
        role: f.role,
      });
      done += f.size;
      options.onProgress?.(done, total, f.path);
    }
    manifest = {
      mediaType: MANIFEST_MEDIA_TYPE,
      name: spec.name,
      version: spec.version,
      models,
      ...(spec.handler &&
        handlerEntry && {
          handler: {
            module: spec.handler.module,
            entry: handlerEntry,
            ...(spec.handler.lockfile && { lockfile: spec.handler.lockfile }),
          },
        }),
      files: written,
    };
    await tar.addBytes(MANIFEST_PATH, false, encodeManifest(manifest));
    await tar.finish();
  });
  return {
    path: output,
    name: spec.name,
    version: spec.version,
    files: written.length,
    bytes: total,
    manifest: manifest!,
  };
}
