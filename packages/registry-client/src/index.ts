/**
 * @ferry/registry-client: talks to a ferry registry and to OCI registries, without the server.
 * Importing it loads no server code (fastify, better-sqlite3, pg): ferry serve, ferry bundle and
 * the CLI's client commands use it; the registry server imports its names, wire types, body
 * schemas and error table; the UI imports its types only.
 */

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
export {
  isRegistryError,
  REGISTRY_ERRORS,
  RegistryError,
  type RegistryErrorCode,
  type RegistryErrorParams,
  type RegistryErrorSpec,
  RemoteRegistryError,
  registryError,
} from './errors.js';
export type { FromSchema } from './from-schema.js';
export * from './limits.js';
export {
  checkFilePath,
  checkLabel,
  checkSourceUri,
  formatModelUri,
  type ModelName,
  type ModelUri,
  parseModelName,
  parseModelUri,
} from './names.js';
export * from './oci/index.js';
export * from './schemas.js';
export * from './types.js';
export { versionDigest } from './version-digest.js';
export { signBody } from './webhook-signature.js';
