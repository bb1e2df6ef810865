import { defineErrors, type ErrorParams, type ErrorSpec } from '@ferry/formats';

/**
 * Every error @ferry/bundle raises, in one table (defineErrors in @ferry/formats makes its class,
 * factory and guard). A code names the rule that was broken; the template names the file, the
 * field or tar entry, and the rule. Every code is documented in docs/errors.md under
 * "@ferry/bundle" (packages/cli/test/error-codes.test.ts checks both directions).
 */
export type BundleErrorSpec = ErrorSpec;

const bad = (message: string): ErrorSpec => ({ message, http: 400, permanent: true });
const io = (message: string): ErrorSpec => ({ message, http: 500, permanent: false });

export const BUNDLE_ERRORS = {
  // --- ferry.yaml ---
  FERRY_BUNDLE_YAML: bad('{path}: {field}: {rule}'),

  // --- pack ---
  FERRY_BUNDLE_FORMAT_MISMATCH: bad(
    '{path}: model {model}: ferry.yaml says format {declared}, but the file is {detected}',
  ),
  FERRY_BUNDLE_MODEL_UNREADABLE: bad('{path}: model {model} cannot be scanned: {reason}'),
  FERRY_BUNDLE_UNSAFE_MODEL: bad('{path}: model {model} is unsafe ({count} finding(s)): {findings}'),
  FERRY_BUNDLE_INVALID_MODEL: bad('{path}: model {model} is invalid ({count} finding(s)): {findings}'),
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
} as const satisfies Record<string, ErrorSpec>;

export type BundleErrorCode = keyof typeof BUNDLE_ERRORS;
export type BundleErrorParams = ErrorParams;

const errors = defineErrors('FERRY_BUNDLE_', BUNDLE_ERRORS, { name: 'BundleError' });

/** The one error type this package throws: a FerryError whose code is in BUNDLE_ERRORS. */
export const BundleError = errors.ErrorClass;
export type BundleError = InstanceType<typeof BundleError>;
export const bundleError = errors.create;
export const isBundleError = errors.is;

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
