import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RegistryServer, startRegistry } from '../src/index.js';
import {
  dropSchema,
  freshSchema,
  hasDockerRegistry,
  hasPostgres,
  POSTGRES_URL,
  type RunningOciRegistry,
  startOciRegistry,
} from './backends.js';

/** One backend combination the integration suite runs against. */
export interface Backend {
  readonly name: string;
  /** The serve options naming this backend (what `ferry registry serve` takes). */
  readonly serveArgs: { data: string; db?: string; dbSchema?: string; blobs?: string };
  cleanup(): Promise<void>;
}

export const BACKENDS: { name: string; open: () => Promise<Backend | undefined> }[] = [
  {
    name: 'sqlite+folder',
    open: async () => {
      const data = await mkdtemp(join(tmpdir(), 'ferry-reg-'));
      return {
        name: 'sqlite+folder',
        serveArgs: { data },
        cleanup: () => rm(data, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres+oci',
    open: async () => {
      if (!(await hasPostgres()) || !hasDockerRegistry()) return undefined;
      const data = await mkdtemp(join(tmpdir(), 'ferry-reg-'));
      const oci: RunningOciRegistry = await startOciRegistry();
      const schema = freshSchema();
      return {
        name: 'postgres+oci',
        serveArgs: { data, db: POSTGRES_URL, dbSchema: schema, blobs: `oci://${oci.hostPort}/ferry/blobs` },
        async cleanup() {
          await oci.stop();
          await dropSchema(schema);
          await rm(data, { recursive: true, force: true });
        },
      };
    },
  },
];

export async function startServer(
  backend: Backend,
  options: {
    auth?: 'none' | 'tokens';
    adminTokenFile?: string;
    webhooks?: { pollMs: number; baseDelayMs: number; maxAttempts: number };
  } = {},
): Promise<RegistryServer & { url: string }> {
  return startRegistry({
    ...backend.serveArgs,
    port: 0,
    host: '127.0.0.1',
    log: () => undefined,
    ...options,
  });
}
