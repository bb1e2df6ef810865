/**
 * @ferry/registry: the registry server. Public API only: what other packages use (the CLI starts
 * it, bench drives its stores directly). The client, names, wire types and the OCI client are in
 * @ferry/registry-client.
 */

export type { RegistryServer } from './api/server.js';
export { createRegistryServer, startRegistry } from './start.js';
export { FolderBlobStore } from './store/folder-blob-store.js';
export type { MetadataStore } from './store/metadata-store.js';
export { PostgresStore } from './store/postgres-store.js';
export { RegistryDb } from './store/registry-db.js';
export { SqliteStore } from './store/sqlite-store.js';
