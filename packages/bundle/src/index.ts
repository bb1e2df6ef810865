/**
 * @ferry/bundle: ferry.yaml, reproducible pack, Ed25519 DSSE signatures in the OpenSSF
 * model-signing shape, safe unpack, containerize. Public API only.
 */

export { digestProblems, hashEntries, type OpenedBundle, openBundle } from './archive/read-bundle.js';
export {
  type ContainerizeOptions,
  type ContainerizeResult,
  containerizeBundle,
  DEFAULT_FERRY_IMAGE,
} from './containerize/containerize.js';
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
export {
  type BundleManifest,
  decodeManifest,
  type FileRole,
  MANIFEST_MEDIA_TYPE,
  MANIFEST_PATH,
  type ManifestFile,
  type ManifestModel,
  type RegistryFile,
} from './pack/bundle-manifest.js';
export { type PackOptions, type PackResult, packBundle } from './pack/pack.js';
export { type DownloadProgress, registryModelFolder } from './pack/registry-model.js';
export { type ModelScan, type ModelScanner, scanModelFile } from './pack/scan-model.js';
export { generateKeyFiles, type KeyFiles, publicKeyHint } from './sign/keys.js';
export { defaultSignaturePath, type SignResult, signBundle } from './sign/sign.js';
export {
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  MODEL_SIGNING_PREDICATE_TYPE,
  type ModelSigningStatement,
} from './sign/statement.js';
export { type VerifyResult, verifyBundle } from './sign/verify.js';
// the tar header writer: the CLI's tests build hostile archives (path escapes) with it
export { BLOCK, encodeHeader, padding } from './tar/header.js';
export { readTarIndex, type TarEntry } from './tar/reader.js';
export { type UnpackOptions, type UnpackResult, unpackBundle } from './unpack/unpack.js';
export {
  buildArtifact,
  FILEPATH_ANNOTATION,
  layerMediaType,
  MAX_LAYERS,
  MODELPACK_ARTIFACT_TYPE,
  MODELPACK_CODE,
  MODELPACK_CONFIG,
  MODELPACK_DOC,
  MODELPACK_WEIGHT,
  MODELPACK_WEIGHT_CONFIG,
} from './oci/modelpack.js';
export { type OciPullOptions, type OciPullResult, pullBundle } from './oci/pull.js';
export { type OciPushOptions, type OciPushResult, pushBundle } from './oci/push.js';
export { type PreparedBundle, type PrepareServeOptions, prepareBundleServe } from './serve/prepare.js';
