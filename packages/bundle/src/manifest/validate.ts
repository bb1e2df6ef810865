import type { FormatName } from '@ferry/formats';
import { ANY_DIM, describeValue, fieldPathText, MAX_DIM, validateServingKnobs } from '@ferry/serving-api';
import { type BundleError, BundleManifestError, bundleError } from '../errors.js';
import { MAX_LABELS, MAX_MODELS, MAX_RANK, MAX_TENSORS } from '../limits.js';
import { projectPathProblem } from './paths.js';
import {
  type BundleHandler,
  type BundleModel,
  type BundleSpec,
  DATATYPES,
  type Datatype,
  MODEL_FORMATS,
  type ServingConfig,
  type TensorSchema,
} from './schema.js';

/** A field path as the YAML holds it: ['models', 0, 'format'] prints as models[0].format. */
export type FieldPath = readonly (string | number)[];

/** Maps a field path to its line in the file (1-based), when the document knows it. */
export type Locate = (path: FieldPath) => number | undefined;

const NAME = /^[a-z0-9]([a-z0-9._-]{0,126}[a-z0-9])?$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
// Kubernetes label keys: an optional DNS-subdomain prefix, then a name segment of up to 63 characters.
const LABEL_KEY = /^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const MAX_LABEL_VALUE = 1024;
const REGISTRY_NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const REGISTRY_ALIAS = /^[A-Za-z][A-Za-z0-9._-]{0,127}$/;
const HANDLER_MODULE = /\.(js|mjs|ts|mts)$/;

export function formatFieldPath(path: FieldPath): string {
  return fieldPathText(path) || '(document)';
}

/**
 * Validates a parsed ferry.yaml document and returns the spec, or throws a BundleManifestError
 * holding one FERRY_BUNDLE_YAML error per problem (every problem, not only the first).
 */
export function validateBundleSpec(doc: unknown, file: string, locate: Locate = () => undefined): BundleSpec {
  const problems: BundleError[] = [];
  const problem = (path: FieldPath, rule: string) => {
    const line = locate(path);
    problems.push(
      bundleError('FERRY_BUNDLE_YAML', {
        path: line === undefined ? file : `${file}:${line}`,
        field: formatFieldPath(path),
        rule,
      }),
    );
  };
  const spec = readSpec(doc, problem);
  if (problems.length > 0) throw new BundleManifestError(problems);
  return spec!;
}

type Report = (path: FieldPath, rule: string) => void;

function mapping(
  value: unknown,
  path: FieldPath,
  known: readonly string[],
  report: Report,
): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    report(path, `must be a mapping, not ${describeValue(value)}`);
    return undefined;
  }
  for (const key of Object.keys(value))
    if (!known.includes(key)) report([...path, key], `unknown field (known: ${known.join(', ')})`);
  return value as Record<string, unknown>;
}

function string(value: unknown, path: FieldPath, report: Report, pattern?: RegExp, hint?: string) {
  if (typeof value !== 'string') {
    report(
      path,
      `must be a string, not ${describeValue(value)}${typeof value === 'number' ? ' (quote it)' : ''}`,
    );
    return undefined;
  }
  if (pattern && !pattern.test(value)) {
    report(path, `${JSON.stringify(value)} ${hint ?? `must match ${pattern}`}`);
    return undefined;
  }
  return value;
}

function integer(value: unknown, path: FieldPath, min: number, max: number, report: Report) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    report(path, `must be an integer from ${min} to ${max}, not ${describeValue(value)}`);
    return undefined;
  }
  return value;
}

function list(value: unknown, path: FieldPath, max: number, report: Report): unknown[] | undefined {
  if (!Array.isArray(value)) {
    report(path, `must be a list, not ${describeValue(value)}`);
    return undefined;
  }
  if (value.length > max) {
    report(path, `has ${value.length} entries, over the limit of ${max}`);
    return undefined;
  }
  return value;
}

function relativePath(value: unknown, path: FieldPath, report: Report): string | undefined {
  const text = string(value, path, report);
  if (text === undefined) return undefined;
  const why = projectPathProblem(text);
  if (why) {
    report(path, `${JSON.stringify(text)} ${why}`);
    return undefined;
  }
  return text;
}

function readSpec(doc: unknown, report: Report): BundleSpec | undefined {
  const root = mapping(
    doc,
    [],
    [
      'name',
      'version',
      'description',
      'license',
      'labels',
      'models',
      'handler',
      'inputs',
      'outputs',
      'serving',
      'docs',
      'files',
    ],
    report,
  );
  if (!root) return undefined;
  const name =
    root.name === undefined
      ? void report(['name'], 'is required')
      : string(
          root.name,
          ['name'],
          report,
          NAME,
          'must be 1-128 lower-case letters, digits, ".", "_" or "-", starting and ending with a letter or digit',
        );
  const version =
    root.version === undefined
      ? void report(['version'], 'is required')
      : string(
          root.version,
          ['version'],
          report,
          VERSION,
          'must be 1-128 letters, digits, ".", "_", "+" or "-", starting with a letter or digit (an OCI tag)',
        );
  const description =
    root.description === undefined ? undefined : string(root.description, ['description'], report);
  const license = root.license === undefined ? undefined : string(root.license, ['license'], report);
  const labels = root.labels === undefined ? {} : readLabels(root.labels, report);
  const models =
    root.models === undefined ? void report(['models'], 'is required') : readModels(root.models, report);
  const handler = root.handler === undefined ? undefined : readHandler(root.handler, report);
  const inputs = root.inputs === undefined ? [] : readTensors(root.inputs, 'inputs', report);
  const outputs = root.outputs === undefined ? [] : readTensors(root.outputs, 'outputs', report);
  const serving = root.serving === undefined ? {} : readServing(root.serving, report);
  const docs = root.docs === undefined ? [] : readPaths(root.docs, 'docs', report);
  const files = root.files === undefined ? [] : readPaths(root.files, 'files', report);
  if (!name || !version || !models || !labels || !inputs || !outputs || !serving || !docs || !files)
    return undefined;
  checkDuplicatePaths(models, handler, docs, files, report);
  return {
    name,
    version,
    ...(description !== undefined && { description }),
    ...(license !== undefined && { license }),
    labels,
    models,
    ...(handler && { handler }),
    inputs,
    outputs,
    serving,
    docs,
    files,
  };
}

function readLabels(value: unknown, report: Report): Record<string, string> | undefined {
  const labels = mapping(value, ['labels'], [], () => {});
  if (!labels) return void report(['labels'], `must be a mapping of strings, not ${describeValue(value)}`);
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS)
    return void report(['labels'], `has ${keys.length} labels, over the limit of ${MAX_LABELS}`);
  const out: Record<string, string> = {};
  let ok = true;
  for (const key of keys.sort()) {
    if (!LABEL_KEY.test(key)) {
      report(
        ['labels', key],
        'is not a valid label key (an optional DNS prefix and "/", then up to 63 letters, digits, "-", "_", ".")',
      );
      ok = false;
      continue;
    }
    const text = string(labels[key], ['labels', key], report);
    if (text === undefined) ok = false;
    else if (text.length > MAX_LABEL_VALUE) {
      report(['labels', key], `is ${text.length} characters, over the limit of ${MAX_LABEL_VALUE}`);
      ok = false;
    } else out[key] = text;
  }
  return ok ? out : undefined;
}

/** `models:/NAME@ALIAS` or `models:/NAME/VERSION` (MLflow's model URI forms); NAME may be `namespace/name`. */
export function parseModelRef(
  ref: string,
): { registryModel: string; alias?: string; registryVersion?: number } | string {
  if (!ref.startsWith('models:/')) return 'must start with models:/';
  const rest = ref.slice('models:/'.length);
  let nameText: string;
  let alias: string | undefined;
  let version: number | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    nameText = rest.slice(0, at);
    alias = rest.slice(at + 1);
    if (!REGISTRY_ALIAS.test(alias))
      return `alias ${JSON.stringify(alias)} must be a letter, then letters, digits, ".", "-" or "_"`;
  } else {
    const slash = rest.lastIndexOf('/');
    const last = slash >= 0 ? rest.slice(slash + 1) : '';
    if (!/^[1-9][0-9]{0,8}$/.test(last))
      return 'must end in @ALIAS or /VERSION (models:/NAME@ALIAS, models:/NAME/3)';
    nameText = rest.slice(0, slash);
    version = Number(last);
  }
  const parts = nameText.split('/');
  if (parts.length > 2 || parts.some((p) => !REGISTRY_NAME_PART.test(p) || p.includes('..')))
    return `model name ${JSON.stringify(nameText)} must be NAME or NAMESPACE/NAME of letters, digits, ".", "-", "_"`;
  return {
    registryModel: nameText,
    ...(alias !== undefined && { alias }),
    ...(version !== undefined && { registryVersion: version }),
  };
}

function readModels(value: unknown, report: Report): BundleModel[] | undefined {
  const items = list(value, ['models'], MAX_MODELS, report);
  if (!items) return undefined;
  if (items.length === 0) return void report(['models'], 'must name at least one model');
  const models: BundleModel[] = [];
  const names = new Map<string, number>();
  let ok = true;
  for (const [i, item] of items.entries()) {
    const at = ['models', i] as const;
    const entry = mapping(item, at, ['name', 'path', 'ref', 'format'], report);
    if (!entry) {
      ok = false;
      continue;
    }
    const name =
      entry.name === undefined
        ? void report([...at, 'name'], 'is required')
        : string(
            entry.name,
            [...at, 'name'],
            report,
            NAME,
            'must be 1-128 lower-case letters, digits, ".", "_" or "-"',
          );
    if (name !== undefined) {
      const seen = names.get(name);
      if (seen !== undefined)
        report([...at, 'name'], `${JSON.stringify(name)} is already the name of models[${seen}]`);
      else names.set(name, i);
    }
    const format =
      entry.format === undefined
        ? void report([...at, 'format'], `is required (one of ${MODEL_FORMATS.join(', ')})`)
        : typeof entry.format === 'string' && MODEL_FORMATS.includes(entry.format as FormatName)
          ? (entry.format as FormatName)
          : void report(
              [...at, 'format'],
              `${describeValue(entry.format)} is not a format ferry reads (one of ${MODEL_FORMATS.join(', ')})`,
            );
    let model: BundleModel | undefined;
    if ((entry.path === undefined) === (entry.ref === undefined)) {
      report(at, 'needs exactly one of path (a file or folder in the project) or ref (models:/NAME@ALIAS)');
    } else if (entry.path !== undefined) {
      const path = relativePath(entry.path, [...at, 'path'], report);
      if (path && name && format) model = { name, format, path };
    } else {
      const ref = string(entry.ref, [...at, 'ref'], report);
      if (ref !== undefined) {
        const parsed = parseModelRef(ref);
        if (typeof parsed === 'string') report([...at, 'ref'], `${JSON.stringify(ref)} ${parsed}`);
        else if (name && format) model = { name, format, ref, ...parsed };
      }
    }
    if (model) models.push(model);
    else ok = false;
  }
  return ok ? models : undefined;
}

function readHandler(value: unknown, report: Report): BundleHandler | undefined {
  const entry = mapping(value, ['handler'], ['module', 'lockfile'], report);
  if (!entry) return undefined;
  if (entry.module === undefined) return void report(['handler', 'module'], 'is required');
  const module = relativePath(entry.module, ['handler', 'module'], report);
  if (module !== undefined && !HANDLER_MODULE.test(module))
    report(['handler', 'module'], `${JSON.stringify(module)} must be a .js, .mjs, .ts or .mts module`);
  let lockfile: string | undefined;
  if (entry.lockfile !== undefined) {
    lockfile = relativePath(entry.lockfile, ['handler', 'lockfile'], report);
    if (lockfile !== undefined && !/(^|\/)package-lock\.json$/.test(lockfile)) {
      report(
        ['handler', 'lockfile'],
        `${JSON.stringify(lockfile)} must be a package-lock.json (npm ci installs from it)`,
      );
      lockfile = undefined;
    }
    if (lockfile === undefined) return undefined;
  }
  if (module === undefined || !HANDLER_MODULE.test(module)) return undefined;
  return { module, ...(lockfile !== undefined && { lockfile }) };
}

function readTensors(
  value: unknown,
  field: 'inputs' | 'outputs',
  report: Report,
): TensorSchema[] | undefined {
  const items = list(value, [field], MAX_TENSORS, report);
  if (!items) return undefined;
  const out: TensorSchema[] = [];
  const names = new Set<string>();
  let ok = true;
  for (const [i, item] of items.entries()) {
    const at = [field, i] as const;
    const entry = mapping(item, at, ['name', 'datatype', 'shape', 'description'], report);
    if (!entry) {
      ok = false;
      continue;
    }
    const name =
      entry.name === undefined
        ? void report([...at, 'name'], 'is required')
        : string(entry.name, [...at, 'name'], report);
    if (name !== undefined && names.has(name))
      report([...at, 'name'], `${JSON.stringify(name)} appears twice in ${field}`);
    if (name !== undefined) names.add(name);
    const datatype =
      entry.datatype === undefined
        ? void report([...at, 'datatype'], `is required (one of ${DATATYPES.join(', ')})`)
        : DATATYPES.includes(entry.datatype as Datatype)
          ? (entry.datatype as Datatype)
          : void report(
              [...at, 'datatype'],
              `${describeValue(entry.datatype)} is not one of ${DATATYPES.join(', ')}`,
            );
    let shape: number[] | undefined;
    if (entry.shape === undefined)
      report([...at, 'shape'], 'is required (a list of dimensions, -1 for any size)');
    else {
      const dims = list(entry.shape, [...at, 'shape'], MAX_RANK, report);
      if (dims) {
        shape = [];
        dims.forEach((d, j) => {
          const dim = integer(d, [...at, 'shape', j], ANY_DIM, MAX_DIM, report);
          if (dim === undefined) shape = undefined;
          else shape?.push(dim);
        });
      }
    }
    const description =
      entry.description === undefined ? undefined : string(entry.description, [...at, 'description'], report);
    if (name !== undefined && datatype && shape)
      out.push({ name, datatype, shape, ...(description !== undefined && { description }) });
    else ok = false;
  }
  return ok ? out : undefined;
}

/** The `serving:` block: serving-api's model config knobs, every broken rule reported. */
function readServing(value: unknown, report: Report): ServingConfig | undefined {
  const result = validateServingKnobs(value, { mode: 'all', wording: 'ferry-yaml', at: ['serving'] });
  if (result.ok) return result.value;
  for (const issue of result.issues) report(issue.path, issue.rule);
  return undefined;
}

function readPaths(value: unknown, field: 'docs' | 'files', report: Report): string[] | undefined {
  const items = list(value, [field], 10_000, report);
  if (!items) return undefined;
  const out: string[] = [];
  let ok = true;
  for (const [i, item] of items.entries()) {
    const path = relativePath(item, [field, i], report);
    if (path === undefined) ok = false;
    else out.push(path);
  }
  return ok ? out : undefined;
}

/** One project file belongs to one role: naming it twice would pack it twice. */
function checkDuplicatePaths(
  models: readonly BundleModel[],
  handler: BundleHandler | undefined,
  docs: readonly string[],
  files: readonly string[],
  report: Report,
): void {
  const seen = new Map<string, string>();
  const claim = (path: string, field: FieldPath) => {
    const where = formatFieldPath(field);
    const before = seen.get(path);
    if (before) report(field, `${JSON.stringify(path)} is already named by ${before}`);
    else seen.set(path, where);
  };
  seen.set('ferry.yaml', 'ferry.yaml itself');
  for (const [i, m] of models.entries()) if ('path' in m) claim(m.path, ['models', i, 'path']);
  if (handler) {
    claim(handler.module, ['handler', 'module']);
    if (handler.lockfile) claim(handler.lockfile, ['handler', 'lockfile']);
  }
  for (const [i, p] of docs.entries()) claim(p, ['docs', i]);
  for (const [i, p] of files.entries()) claim(p, ['files', i]);
}
