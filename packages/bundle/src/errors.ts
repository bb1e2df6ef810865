import { formatErrorMessage } from '@ferry/formats';

/**
 * Every error @ferry/bundle raises, in one table (the same pattern as @ferry/formats' errors.ts).
 * A code names the rule that was broken; the template names the file, the field or tar entry,
 * and the rule. Every code is documented in docs/errors.md under "@ferry/bundle" (errors.test.ts).
 */
export interface BundleErrorSpec {
  readonly message: string;
  readonly http: number;
  readonly permanent: boolean;
}

const bad = (message: string): BundleErrorSpec => ({ message, http: 400, permanent: true });
const io = (message: string): BundleErrorSpec => ({ message, http: 500, permanent: false });

export const BUNDLE_ERRORS = {
  // --- ferry.yaml ---
  FERRY_BUNDLE_YAML: bad('{path}: {field}: {rule}'),

  // --- pack ---
  FERRY_BUNDLE_FORMAT_MISMATCH: bad(
    '{path}: model {model}: ferry.yaml says format {declared}, but the file is {detected}',
  ),
  FERRY_BUNDLE_MODEL_UNREADABLE: bad('{path}: model {model} cannot be scanned: {reason}'),
  FERRY_BUNDLE_UNSAFE_MODEL: bad('{path}: model {model} is unsafe ({count} finding(s)): {findings}'),
  FERRY_BUNDLE_NPM: bad('{path}: installing the handler dependencies failed: {reason}'),
  FERRY_BUNDLE_HANDLER: bad('{path}: handler {rule}'),
  FERRY_BUNDLE_REF: bad('{path}: model {model}: {ref}: {reason}'),
  FERRY_BUNDLE_REF_UNREACHABLE: io(
    '{path}: model {model}: {ref}: cannot reach the registry {registry} ({reason}); name it with --registry URL or FERRY_REGISTRY',
  ),
  FERRY_BUNDLE_UNSAFE_VERSION: bad(
    '{path}: model {model}: {ref} is version {version}, which the registry scan marks unsafe ({reason}); it is never packed',
  ),

  // --- archive ---
  FERRY_BUNDLE_TAR: bad('{path}: tar {what} at byte {offset}: {rule}'),
  FERRY_BUNDLE_UNSAFE_ENTRY: bad('{path}: entry {entry} refused: {rule}'),
  FERRY_BUNDLE_MANIFEST: bad('{path}: .ferry/manifest.json: {rule}'),
  FERRY_BUNDLE_DIGEST: bad('{path}: {rule}'),
  FERRY_BUNDLE_LIMIT: bad('{path}: {what} is {value}, over the limit of {limit} ({reason})'),
  FERRY_BUNDLE_OUTPUT: bad('{path}: {rule}'),

  // --- signing ---
  FERRY_BUNDLE_KEY: bad('{path}: {rule}'),
  FERRY_BUNDLE_SIGNATURE: bad('{path}: {rule}'),
  FERRY_BUNDLE_TAMPERED: bad('{path}: verification failed: {changes}'),

  // --- oci ---
  FERRY_BUNDLE_OCI: bad('{reference}: {rule}'),
  FERRY_BUNDLE_UNSIGNED: bad('{reference}: {rule}'),

  // --- serve ---
  FERRY_BUNDLE_SERVE: bad('{path}: {rule}'),

  // --- io ---
  FERRY_BUNDLE_IO: io('{path}: {reason}'),
} as const satisfies Record<string, BundleErrorSpec>;

export type BundleErrorCode = keyof typeof BUNDLE_ERRORS;
export type BundleErrorParams = Record<string, string | number | bigint>;

/** The one error type @ferry/bundle throws. */
export class BundleError extends Error {
  readonly code: BundleErrorCode;
  readonly params: BundleErrorParams;
  readonly http: number;
  readonly permanent: boolean;

  constructor(code: BundleErrorCode, params: BundleErrorParams = {}, options?: { cause?: unknown }) {
    super(formatErrorMessage(BUNDLE_ERRORS[code].message, params), options);
    this.name = 'BundleError';
    this.code = code;
    this.params = params;
    this.http = BUNDLE_ERRORS[code].http;
    this.permanent = BUNDLE_ERRORS[code].permanent;
  }
}

/** ferry.yaml problems, all of them at once: `problems` holds one FERRY_BUNDLE_YAML error each. */
export class BundleManifestError extends BundleError {
  readonly problems: readonly BundleError[];

  constructor(problems: readonly BundleError[]) {
    const first = problems[0]!;
    super(first.code, first.params);
    this.name = 'BundleManifestError';
    this.problems = problems;
    if (problems.length > 1) this.message = `${first.message} (and ${problems.length - 1} more problem(s))`;
  }
}

export function bundleError(
  code: BundleErrorCode,
  params: BundleErrorParams = {},
  cause?: unknown,
): BundleError {
  return new BundleError(code, params, cause === undefined ? undefined : { cause });
}

export function isBundleError(value: unknown): value is BundleError {
  return value instanceof BundleError;
}
