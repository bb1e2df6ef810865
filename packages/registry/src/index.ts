/** @ferry/registry: models, versions, aliases, lineage and access control. Public API only. */
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
export * from './store/index.js';
