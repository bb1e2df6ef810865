/**
 * The registry's metadata stores over the machine's backends (scripts/test/backends.ts: the
 * docker-registry and PostgreSQL every package's integration tests share).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchema, freshSchema, hasPostgres, POSTGRES_URL } from '../../../scripts/test/backends.js';
import { type MetadataStore, PostgresStore, SqliteStore } from '../src/index.js';

export * from '../../../scripts/test/backends.js';

/** Each metadata store the registry runs on, opened fresh; PostgreSQL answers undefined when absent. */
export const metadataBackends: {
  name: string;
  open: () => Promise<{ store: MetadataStore; cleanup: () => Promise<void> } | undefined>;
}[] = [
  {
    name: 'sqlite',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ferry-store-'));
      return {
        store: new SqliteStore(join(dir, 'registry.db')),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    open: async () => {
      if (!(await hasPostgres())) return undefined;
      const schema = freshSchema();
      return {
        store: await PostgresStore.open({ connectionString: POSTGRES_URL, schema }),
        cleanup: () => dropSchema(schema),
      };
    },
  },
];
