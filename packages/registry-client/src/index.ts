/**
 * @ferry/registry-client: talks to a ferry registry and to OCI registries, without the server.
 * Importing it loads no server code (fastify, better-sqlite3, pg): ferry serve, ferry bundle and
 * the CLI's client commands use it; the registry server imports its names, wire types, body
 * schemas and error table; the UI imports its types only.
 */

export { ChunkCache, DEFAULT_CACHE_MAX_BYTES, defaultCacheDir } from './chunk-cache.js';
export type { TransferBytes } from './chunked-upload.js';
export { DEFAULT_REGISTRY, RegistryClient } from './client.js';
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
export * from './limits.js';
export {
  checkFilePath,
  checkLabel,
  checkSourceUri,
  formatModelUri,
  type ModelName,
  parseModelName,
  parseModelUri,
} from './names.js';
export {
  type CallInit,
  type FetchedManifest,
  formatOciReference,
  isOciReference,
  OCI_EMPTY,
  OCI_MANIFEST,
  OciClient,
  type OciCredentials,
  type OciDescriptor,
  type OciReference,
  parseOciReference,
  receivedBytes,
  sha256Digest,
} from './oci/index.js';
export { SCHEMAS } from './schemas.js';
export * from './types.js';
export { versionDigest } from './version-digest.js';
export { signBody } from './webhook-signature.js';
