import { registryError } from './errors.js';
import { MAX_LABEL_LENGTH, MAX_NAME_LENGTH, MAX_PATH_LENGTH } from './limits.js';

/** A name part: letters, digits, `-`, `_`, `.`, starting with a letter or digit (as on the Hub). */
const NAME_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const LABEL = /^[A-Za-z][A-Za-z0-9._-]*$/;

export interface ModelName {
  /** '' when the model has no namespace. */
  readonly namespace: string;
  readonly name: string;
  /** `namespace/name` or `name`. */
  readonly full: string;
}

export function parseModelName(text: string): ModelName {
  const parts = text.split('/');
  if (parts.length > 2)
    throw registryError('FERRY_REGISTRY_BAD_NAME', {
      what: 'model',
      name: text,
      reason: 'at most one / (namespace/name)',
    });
  for (const part of parts) checkNamePart('model', text, part);
  const [namespace, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : ['', parts[0]!];
  return { namespace, name, full: text };
}

function checkNamePart(what: string, whole: string, part: string): void {
  if (part.length === 0 || part.length > MAX_NAME_LENGTH)
    throw registryError('FERRY_REGISTRY_BAD_NAME', {
      what,
      name: JSON.stringify(whole.slice(0, 200)),
      reason: `each part must be 1 to ${MAX_NAME_LENGTH} characters`,
    });
  if (!NAME_PART.test(part) || part.includes('..'))
    throw registryError('FERRY_REGISTRY_BAD_NAME', {
      what,
      name: JSON.stringify(whole),
      reason: 'use letters, digits, ".", "-" and "_", starting with a letter or digit, no ".."',
    });
}

/** Aliases and tag keys. An alias must not look like a version number (models:/m/3 vs models:/m@3). */
export function checkLabel(what: string, text: string): string {
  if (text.length === 0 || text.length > MAX_LABEL_LENGTH || !LABEL.test(text))
    throw registryError('FERRY_REGISTRY_BAD_NAME', {
      what,
      name: JSON.stringify(text.slice(0, 200)),
      reason: `1 to ${MAX_LABEL_LENGTH} characters: a letter, then letters, digits, ".", "-" or "_"`,
    });
  return text;
}

/** C0 controls, DEL and C1 controls: a newline in a name forges lines in listings, logs and manifests (CWE-117). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A file path inside a version: relative, '/'-separated, no '.', '..' or empty segments, no
 * backslashes, NUL or other control characters (CWE-22: path traversal when a client pulls the
 * version into a folder; CWE-117: a name with a newline forges lines wherever it is printed).
 */
export function checkFilePath(path: string): string {
  const fail = (reason: string) =>
    registryError('FERRY_REGISTRY_BAD_PATH', { path: JSON.stringify(path.slice(0, 300)), reason });
  if (path.length === 0 || path.length > MAX_PATH_LENGTH)
    throw fail(`must be 1 to ${MAX_PATH_LENGTH} characters`);
  if (path.startsWith('/')) throw fail('must be relative');
  if (path.includes('\\')) throw fail('must not contain backslashes');
  const control = CONTROL.exec(path);
  if (control)
    throw fail(
      `must not contain control characters (U+${control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at character ${control.index})`,
    );
  if (/^[A-Za-z]:/.test(path)) throw fail('must not name a drive');
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..')
      throw fail('segments must not be empty, "." or ".." (path traversal)');
  }
  return path;
}

/**
 * A version's source (MLflow's artifact `source`, the native `sourceUri`): free text, but one line
 * of it, since it is printed in listings and logs (CWE-117).
 */
export function checkSourceUri(what: string, text: string): string {
  const control = CONTROL.exec(text);
  if (control)
    throw registryError('FERRY_REGISTRY_BAD_REQUEST', {
      what,
      reason: `must not contain control characters (U+${control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at character ${control.index})`,
    });
  return text;
}

/** `models:/NAME@ALIAS`, `models:/NAME/VERSION` or `models:/NAME` (latest ready version). */
export interface ModelUri {
  readonly model: string;
  readonly version?: number;
  readonly alias?: string;
}

export function parseModelUri(uri: string): ModelUri {
  const bad = (reason: string) =>
    registryError('FERRY_REGISTRY_BAD_REQUEST', { what: `model URI ${JSON.stringify(uri)}`, reason });
  if (!uri.startsWith('models:/')) throw bad('must start with models:/');
  const rest = uri.slice('models:/'.length);
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const model = parseModelName(rest.slice(0, at)).full;
    return { model, alias: checkLabel('alias', rest.slice(at + 1)) };
  }
  const parts = rest.split('/');
  const last = parts[parts.length - 1]!;
  if (parts.length >= 2 && /^\d+$/.test(last)) {
    const version = Number(last);
    if (!Number.isSafeInteger(version) || version < 1) throw bad('the version must be a positive integer');
    return { model: parseModelName(parts.slice(0, -1).join('/')).full, version };
  }
  return { model: parseModelName(rest).full };
}

export function formatModelUri(uri: ModelUri): string {
  if (uri.alias) return `models:/${uri.model}@${uri.alias}`;
  if (uri.version !== undefined) return `models:/${uri.model}/${uri.version}`;
  return `models:/${uri.model}`;
}
