/**
 * @ferry/bundle: ferry.yaml, reproducible pack, Ed25519 DSSE signatures in the OpenSSF
 * model-signing shape, safe unpack, containerize. Public API only.
 */

export {
  BUNDLE_ERRORS,
  BundleError,
  type BundleErrorCode,
  BundleManifestError,
  bundleError,
  isBundleError,
} from './errors.js';
export { loadBundleSpec, type ProjectEntry, parseBundleSpec, projectEntries } from './manifest/load.js';
export type {
  BundleHandler,
  BundleModel,
  BundleSpec,
  Datatype,
  ServingConfig,
  TensorSchema,
} from './manifest/schema.js';
export { SPEC_FILE } from './manifest/schema.js';
export { parseModelRef } from './manifest/validate.js';
