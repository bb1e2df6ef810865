export * from './blob-store.js';
export { FolderBlobStore } from './folder-blob-store.js';
export type { MetadataStore, Queryable, Row, SqlValue } from './metadata-store.js';
export { MIGRATIONS, migrate } from './migrations.js';
export { OciBlobStore } from './oci-blob-store.js';
export { type PostgresOptions, PostgresStore } from './postgres-store.js';
export { versionNode } from './node-id.js';
export { RegistryDb } from './registry-db.js';
export { type NewFile, versionDigest } from './version-digest.js';
export type { NewVersion } from './version-store.js';
export type { Condition, Readable } from './search.js';
export { SqliteStore } from './sqlite-store.js';
export type * from './types.js';
export { type Delivery, WEBHOOK_EVENTS, type Webhook, type WebhookEvent, WebhookStore } from './webhooks.js';
export {
  type Deployment,
  DEPLOYMENT_STATUSES,
  type DeploymentStatus,
  DeploymentStore,
} from './deployments.js';
