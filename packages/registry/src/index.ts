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
  sha256File,
} from './client.js';
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
export * from './store/index.js';
