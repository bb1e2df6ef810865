import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { track } from './children.js';

/**
 * What the integration suite needs from the machine: Debian's docker-registry (the OCI side) and
 * the PostgreSQL at 127.0.0.1:5432. Missing ones skip the suite with the install command, except
 * under CI=true, where a missing backend fails.
 */
export const DOCKER_REGISTRY = '/usr/bin/docker-registry';
// scripts/pretest.mjs (npm's pretest) creates this role and database as root
export const POSTGRES_URL =
  process.env.FERRY_TEST_POSTGRES ?? 'postgres://ferry_test:ferry_test@127.0.0.1:5432/ferry_test';
const CI = process.env.CI === 'true';

export function requireOrSkip(what: string, present: boolean, install: string): boolean {
  if (present) return true;
  if (CI) throw new Error(`${what} is missing and CI=true: ${install}`);
  console.warn(`skipping: ${what} is missing; install it with: ${install}`);
  return false;
}

export const hasDockerRegistry = () =>
  requireOrSkip('docker-registry', existsSync(DOCKER_REGISTRY), 'apt-get install -y docker-registry');

export async function hasPostgres(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  let ok = true;
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch {
    ok = false;
  } finally {
    await client.end().catch(() => undefined);
  }
  return requireOrSkip(
    `PostgreSQL at ${POSTGRES_URL}`,
    ok,
    'sudo npm run pretest (installs postgresql, creates role and database ferry_test)',
  );
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunningOciRegistry {
  readonly endpoint: string;
  readonly hostPort: string;
  /** The registry's storage folder (filesystem driver), for tests that tamper with stored blobs. */
  readonly root: string;
  stop(): Promise<void>;
}

/**
 * Starts docker-registry on a free loopback port with its storage in a temp folder. `extraConfig`
 * adds top-level YAML lines (an `auth:` section for the bundle push tests).
 */
export async function startOciRegistry(extraConfig: readonly string[] = []): Promise<RunningOciRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-oci-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      ...extraConfig,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = track(
    spawn(DOCKER_REGISTRY, ['serve', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const status = (await fetch(`${endpoint}/v2/`)).status;
      if (status === 200 || status === 401) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    endpoint,
    hostPort: `127.0.0.1:${port}`,
    root: join(dir, 'data'),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh PostgreSQL schema per test run, so parallel runs never see each other's rows. */
export function freshSchema(): string {
  return `ferry_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
