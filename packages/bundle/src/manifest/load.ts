import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { type BundleError, BundleManifestError, bundleError } from '../errors.js';
import { MAX_YAML_ALIASES, MAX_YAML_BYTES } from '../limits.js';
import { type BundleSpec, SPEC_FILE } from './schema.js';
import { type FieldPath, formatFieldPath, validateBundleSpec } from './validate.js';

/** Parses and validates ferry.yaml text; every problem is reported at once (BundleManifestError). */
export function parseBundleSpec(text: string, file = SPEC_FILE): BundleSpec {
  const lines = new LineCounter();
  // uniqueKeys: a key given twice is an error, not a silent last-wins; maxAliasCount bounds
  // alias expansion (billion laughs, CWE-776).
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new BundleManifestError(
      doc.errors.map((error) =>
        bundleError('FERRY_BUNDLE_YAML', {
          path: `${file}:${lines.linePos(error.pos[0]).line}`,
          field: '(yaml)',
          rule: error.message.split('\n')[0]!,
        }),
      ),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    throw new BundleManifestError([
      bundleError('FERRY_BUNDLE_YAML', {
        path: file,
        field: '(yaml)',
        rule: (error as Error).message.split('\n')[0]!,
      }),
    ]);
  }
  const locate = (path: FieldPath): number | undefined => {
    // The deepest node the document has on the way to `path` (a missing field points at its parent).
    let node: unknown = doc.contents;
    let offset: number | undefined = (node as Node | null)?.range?.[0];
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
        if (!pair) break;
        offset = (pair.key as Node).range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
        offset = (node as Node | null)?.range?.[0] ?? offset;
      } else break;
    }
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
  return validateBundleSpec(value ?? null, file, locate);
}

/** A project file or folder the spec names, with its role in the bundle. */
export interface ProjectEntry {
  readonly path: string;
  readonly role: 'spec' | 'model' | 'handler' | 'lockfile' | 'doc' | 'file';
  readonly field: string;
}

export function projectEntries(spec: BundleSpec): ProjectEntry[] {
  const entries: ProjectEntry[] = [{ path: SPEC_FILE, role: 'spec', field: '(spec)' }];
  for (const [i, m] of spec.models.entries())
    if ('path' in m) entries.push({ path: m.path, role: 'model', field: `models[${i}].path` });
  if (spec.handler) {
    entries.push({ path: spec.handler.module, role: 'handler', field: 'handler.module' });
    if (spec.handler.lockfile)
      entries.push({ path: spec.handler.lockfile, role: 'lockfile', field: 'handler.lockfile' });
  }
  for (const [i, p] of spec.docs.entries()) entries.push({ path: p, role: 'doc', field: `docs[${i}]` });
  for (const [i, p] of spec.files.entries()) entries.push({ path: p, role: 'file', field: `files[${i}]` });
  return entries;
}

/**
 * Reads DIR/ferry.yaml, validates it, and checks that every path it names exists inside DIR
 * (symlinks may not lead outside it). All problems, of the YAML and of the files, come in one
 * BundleManifestError.
 */
export async function loadBundleSpec(dir: string): Promise<BundleSpec> {
  const file = join(dir, SPEC_FILE);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    throw bundleError('FERRY_BUNDLE_YAML', {
      path: file,
      field: '(file)',
      rule:
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'no ferry.yaml in this folder'
          : (error as Error).message,
    });
  }
  if (size > MAX_YAML_BYTES)
    throw bundleError('FERRY_BUNDLE_YAML', {
      path: file,
      field: '(file)',
      rule: `is ${size} bytes, over the limit of ${MAX_YAML_BYTES} (MAX_YAML_BYTES)`,
    });
  const spec = parseBundleSpec(await readFile(file, 'utf8'), file);
  const root = await realpath(dir);
  const problems: BundleError[] = [];
  for (const entry of projectEntries(spec)) {
    if (entry.role === 'spec') continue;
    const why = await fileProblem(root, entry);
    if (why)
      problems.push(
        bundleError('FERRY_BUNDLE_YAML', {
          path: file,
          field: entry.field,
          rule: `${JSON.stringify(entry.path)} ${why}`,
        }),
      );
  }
  if (spec.handler?.lockfile) {
    const pkg = spec.handler.lockfile.replace(/package-lock\.json$/, 'package.json');
    const why = await fileProblem(root, { path: pkg, role: 'file', field: 'handler.lockfile' });
    if (why)
      problems.push(
        bundleError('FERRY_BUNDLE_YAML', {
          path: file,
          field: 'handler.lockfile',
          rule: `${JSON.stringify(pkg)} (beside the lock file) ${why}`,
        }),
      );
  }
  if (problems.length > 0) throw new BundleManifestError(problems);
  return spec;
}

async function fileProblem(root: string, entry: ProjectEntry): Promise<string | undefined> {
  const full = join(root, entry.path);
  try {
    await lstat(full);
  } catch {
    return 'does not exist';
  }
  let real: string;
  try {
    real = await realpath(full);
  } catch {
    return 'is a broken symbolic link';
  }
  const rel = relative(root, real);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || rel.startsWith(sep))
    return 'resolves outside the project folder (symbolic link)';
  const info = await stat(real);
  if (entry.role === 'model') {
    if (!info.isFile() && !info.isDirectory()) return 'must be a file or a folder';
  } else if (!info.isFile()) return 'must be a regular file';
  return undefined;
}

export { formatFieldPath };
