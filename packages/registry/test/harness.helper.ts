import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type RegistryServer, startRegistry } from '../src/index.js';
import type { StartOptions } from '../src/open.js';
import {
  dropSchema,
  freshSchema,
  hasDockerRegistry,
  hasPostgres,
  POSTGRES_URL,
  type RunningOciRegistry,
  startOciRegistry,
} from './metadata-backends.helper.js';

/** One backend combination the integration suite runs against. */
export interface Backend {
  readonly name: string;
  /** The serve options naming this backend (what `ferry registry serve` takes). */
  readonly serveArgs: { data: string; db?: string; dbSchema?: string; blobs?: string };
  /** The same backend as `ferry registry serve` arguments (for tests that run server processes). */
  readonly cliArgs: readonly string[];
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
        cliArgs: ['--data', data],
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
      const setup = new pg.Client({ connectionString: POSTGRES_URL });
      await setup.connect();
      await setup.query(`CREATE SCHEMA ${schema}`);
      await setup.end();
      const blobs = `oci://${oci.hostPort}/ferry/blobs`;
      return {
        name: 'postgres+oci',
        serveArgs: { data, db: POSTGRES_URL, dbSchema: schema, blobs },
        // The schema travels in the connection string, as a deployment would pass it.
        cliArgs: [
          '--data',
          data,
          '--db',
          `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
          '--blobs',
          blobs,
        ],
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
  options: Omit<StartOptions, keyof Backend['serveArgs'] | 'port' | 'host'> = {},
): Promise<RegistryServer & { url: string }> {
  return startRegistry({
    ...backend.serveArgs,
    port: 0,
    host: '127.0.0.1',
    log: () => undefined,
    ...options,
  });
}
