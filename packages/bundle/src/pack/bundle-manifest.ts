import type { Finding } from '@ferry/formats';
import { bundleError } from '../errors.js';
import { MAX_FILES } from '../limits.js';
import { pathProblem } from '../manifest/paths.js';

/** Where the manifest lives in a bundle: always the last entry, so pack writes in one pass. */
export const MANIFEST_PATH = '.ferry/manifest.json';
export const MANIFEST_MEDIA_TYPE = 'application/vnd.ferry.bundle.manifest.v1+json';

/** `generated`: written by pack itself (the JavaScript of a TypeScript handler). */
export type FileRole =
  | 'spec'
  | 'model'
  | 'handler'
  | 'lockfile'
  | 'dependency'
  | 'doc'
  | 'file'
  | 'generated';
const ROLES: readonly FileRole[] = [
  'spec',
  'model',
  'handler',
  'lockfile',
  'dependency',
  'doc',
  'file',
  'generated',
];

export interface ManifestFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** `0644` or `0755`, as in the tar header. */
  readonly mode: string;
  readonly role: FileRole;
}

/** A registry version's file as the registry lists it: its path in the version and its digest. */
export interface RegistryFile {
  readonly path: string;
  readonly sha256: string;
}

export interface ManifestModel {
  readonly name: string;
  readonly format: string;
  /**
   * The model file or folder inside the bundle. Absent only in bundles packed before ferry pack
   * resolved registry references: those carry the `ref` alone and cannot be served.
   */
  readonly path?: string;
  /** For a registry model: the `models:/...` reference ferry.yaml gives, as written. */
  readonly ref?: string;
  /** For a registry model: the version the reference named at pack time (an alias, resolved). */
  readonly version?: number;
  /** For a registry model: that version's files, so the bundle says exactly what it carries. */
  readonly files?: readonly RegistryFile[];
  /** The scan's notes (low/info findings; anything worse stops the pack). */
  readonly findings: readonly Finding[];
}

/** .ferry/manifest.json: every other entry's size and SHA-256, and what each entry is for. */
export interface BundleManifest {
  readonly mediaType: typeof MANIFEST_MEDIA_TYPE;
  readonly name: string;
  readonly version: string;
  readonly models: readonly ManifestModel[];
  /** `entry` is the module the server imports: `module` itself, or its compiled .mjs for TypeScript. */
  readonly handler?: { readonly module: string; readonly entry: string; readonly lockfile?: string };
  readonly files: readonly ManifestFile[];
}

/** The manifest's bytes: fixed key order, two-space indent, final newline, so packs are reproducible. */
export function encodeManifest(manifest: BundleManifest): Uint8Array {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
}

/** Parses and checks the shape of a manifest read from a bundle (its agreement with the entries is checked by the caller). */
export function decodeManifest(bytes: Uint8Array, path: string): BundleManifest {
  const fail = (rule: string) => bundleError('FERRY_BUNDLE_MANIFEST', { path, rule });
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw fail(`is not valid JSON (${(error as Error).message})`);
  }
  const obj = (v: unknown, where: string) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw fail(`${where} must be an object`);
    return v as Record<string, unknown>;
  };
  const str = (v: unknown, where: string) => {
    if (typeof v !== 'string') throw fail(`${where} must be a string`);
    return v;
  };
  const root = obj(doc, 'the document');
  if (root.mediaType !== MANIFEST_MEDIA_TYPE)
    throw fail(`mediaType must be ${MANIFEST_MEDIA_TYPE}, not ${JSON.stringify(root.mediaType)}`);
  str(root.name, 'name');
  str(root.version, 'version');
  if (!Array.isArray(root.models)) throw fail('models must be a list');
  for (const [i, m] of root.models.entries()) {
    const model = obj(m, `models[${i}]`);
    str(model.name, `models[${i}].name`);
    str(model.format, `models[${i}].format`);
    if (model.path !== undefined) {
      const path = str(model.path, `models[${i}].path`);
      const why = pathProblem(path);
      if (why) throw fail(`models[${i}].path ${JSON.stringify(path)} ${why}`);
    }
    if (model.ref !== undefined) str(model.ref, `models[${i}].ref`);
    if (model.path === undefined && model.ref === undefined) throw fail(`models[${i}] needs a path or a ref`);
    if (
      model.version !== undefined &&
      (typeof model.version !== 'number' || !Number.isSafeInteger(model.version) || model.version < 1)
    )
      throw fail(`models[${i}].version must be a version number (1 or more)`);
    if (model.files !== undefined) {
      if (!Array.isArray(model.files)) throw fail(`models[${i}].files must be a list`);
      for (const [j, f] of model.files.entries()) {
        const file = obj(f, `models[${i}].files[${j}]`);
        str(file.path, `models[${i}].files[${j}].path`);
        if (!/^[0-9a-f]{64}$/.test(str(file.sha256, `models[${i}].files[${j}].sha256`)))
          throw fail(`models[${i}].files[${j}].sha256 must be 64 lower-case hex digits`);
      }
    }
    if (!Array.isArray(model.findings)) throw fail(`models[${i}].findings must be a list`);
  }
  if (root.handler !== undefined) {
    const handler = obj(root.handler, 'handler');
    str(handler.module, 'handler.module');
    const entry = str(handler.entry, 'handler.entry');
    const why = pathProblem(entry);
    if (why) throw fail(`handler.entry ${JSON.stringify(entry)} ${why}`);
  }
  if (!Array.isArray(root.files)) throw fail('files must be a list');
  if (root.files.length > MAX_FILES)
    throw fail(`lists ${root.files.length} files, over MAX_FILES (${MAX_FILES})`);
  const seen = new Set<string>();
  for (const [i, f] of root.files.entries()) {
    const file = obj(f, `files[${i}]`);
    const p = str(file.path, `files[${i}].path`);
    const why = pathProblem(p);
    if (why) throw fail(`files[${i}].path ${JSON.stringify(p)} ${why}`);
    if (seen.has(p)) throw fail(`files[${i}].path ${JSON.stringify(p)} is listed twice`);
    seen.add(p);
    if (typeof file.size !== 'number' || !Number.isSafeInteger(file.size) || file.size < 0)
      throw fail(`files[${i}].size must be a byte count`);
    if (!/^[0-9a-f]{64}$/.test(str(file.sha256, `files[${i}].sha256`)))
      throw fail(`files[${i}].sha256 must be 64 lower-case hex digits`);
    if (file.mode !== '0644' && file.mode !== '0755') throw fail(`files[${i}].mode must be "0644" or "0755"`);
    if (!ROLES.includes(file.role as FileRole))
      throw fail(`files[${i}].role must be one of ${ROLES.join(', ')}`);
  }
  return root as unknown as BundleManifest;
}
