import { join } from 'node:path';
import { createRegistryServer, type RegistryServer } from './api/server.js';
import type { AuthLimiterOptions } from './api/auth-limiter.js';
import type { UploadExpiryOptions } from './api/upload-sweeper.js';
import type { DispatcherOptions } from './api/webhook-dispatcher.js';
import type { WebhookTargetPolicy } from './api/webhook-target.js';
import type { BlobStore } from './store/blob-store.js';
import { FolderBlobStore } from './store/folder-blob-store.js';
import { OciBlobStore } from './store/oci-blob-store.js';
import { PostgresStore } from './store/postgres-store.js';
import { RegistryDb } from './store/registry-db.js';
import { SqliteStore } from './store/sqlite-store.js';

export interface BackendOptions {
  /** Data folder for the embedded defaults (SQLite file, blob folder); default ./.ferry */
  readonly data?: string;
  /** `postgres://...` to use PostgreSQL instead of SQLite. */
  readonly db?: string;
  /** A PostgreSQL schema (tests use a fresh one). */
  readonly dbSchema?: string;
  /** `oci://HOST:PORT/NAMESPACE` to keep blobs in an OCI registry instead of the folder. */
  readonly blobs?: string;
}

/** Opens the metadata and blob stores the serve options name. */
export async function openBackends(options: BackendOptions): Promise<{ db: RegistryDb; blobs: BlobStore }> {
  const data = options.data ?? '.ferry';
  const store = options.db
    ? await PostgresStore.open({
        connectionString: options.db,
        ...(options.dbSchema && { schema: options.dbSchema }),
      })
    : new SqliteStore(join(data, 'registry.db'));
  const blobs = options.blobs
    ? OciBlobStore.fromUri(options.blobs)
    : await FolderBlobStore.open(join(data, 'blobs'));
  return { db: new RegistryDb(store), blobs };
}

export interface StartOptions extends BackendOptions {
  readonly port?: number;
  readonly host?: string;
  readonly auth?: 'tokens' | 'none';
  readonly adminTokenFile?: string;
  readonly webhooks?: DispatcherOptions | false;
  readonly log?: (line: string) => void;
  readonly ui?: string | false;
  readonly authLimits?: AuthLimiterOptions;
  readonly uploads?: UploadExpiryOptions;
  readonly webhookTargets?: WebhookTargetPolicy;
  readonly deploymentExpiryMs?: number;
}

/** Opens the backends, builds the server and listens. `url` is where it answers. */
export async function startRegistry(options: StartOptions): Promise<RegistryServer & { url: string }> {
  const { db, blobs } = await openBackends(options);
  const server = await createRegistryServer({
    db,
    blobs,
    auth: options.auth,
    adminTokenFile: options.adminTokenFile,
    webhooks: options.webhooks,
    log: options.log,
    ui: options.ui,
    authLimits: options.authLimits,
    uploads: options.uploads,
    webhookTargets: options.webhookTargets,
    deploymentExpiryMs: options.deploymentExpiryMs,
    // Temporary files live with the data they become, not in the OS temp folder (kill -9 sweep).
    scratch: join(options.data ?? '.ferry', 'tmp'),
  });
  let address: string;
  try {
    address = await server.app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  } catch (error) {
    // a busy port: close what is open (database pool, webhook timers) so the process can exit
    await server.close().catch(() => undefined);
    await blobs.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }
  return {
    ...server,
    url: address,
    async close() {
      await server.close();
      await blobs.close();
      await db.close();
    },
  };
}
