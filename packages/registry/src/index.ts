/** @ferry/registry: models, versions, aliases, lineage and access control. Public API only. */

export * from './api/index.js';
export {
  type ClientOptions,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_REGISTRY,
  type LocalFile,
  type Progress,
  type PushOptions,
  RegistryClient,
  scanLocal,
} from './client.js';
/** Re-exported: the registry's clients name files by it. */
export { sha256File } from '@ferry/formats';
export {
  isRegistryError,
  REGISTRY_ERRORS,
  RegistryError,
  type RegistryErrorCode,
  RemoteRegistryError,
  registryError,
} from './errors.js';
export * from './limits.js';
export {
  checkFilePath,
  checkLabel,
  formatModelUri,
  type ModelName,
  type ModelUri,
  parseModelName,
  parseModelUri,
} from './names.js';
export { type BackendOptions, openBackends, type StartOptions, startRegistry } from './open.js';
export * from './oci/index.js';
export * from './store/index.js';
