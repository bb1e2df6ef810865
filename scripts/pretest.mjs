#!/usr/bin/env node
// npm runs this before `npm test`, so that `npm ci` and `npm test` are the whole set-up on a fresh
// Debian machine: the suite's Debian packages, the libtorch addon and a PostgreSQL database to test
// against. As root it installs or creates what is missing; otherwise it says in one line what to
// run, and exits 1 (the suite would only fail or skip without them).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const isRoot = process.getuid?.() === 0;

/** Runs a command with its output shown; returns its exit status. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) return 127;
  return result.status ?? 1;
}

// 1. Debian packages (the same list CI installs): apt-get update + install as root, else one line.
const deps = run('bash', [join(root, 'scripts', 'install-system-deps.sh'), '--quiet']);
if (deps !== 0) process.exit(deps);

// 2. The libtorch addon: `npm ci` built it only if libtorch-dev was there then; the script builds it
// now when it is missing or older than its sources, and returns at once otherwise.
const addon = run(process.execPath, [join(root, 'packages', 'torchscript', 'scripts', 'build-addon.mjs')]);
if (addon !== 0) process.exit(addon);

// 3. PostgreSQL for the registry's scale-out tests (scripts/test/backends.ts reads the same
// variable and default). Its own role and database, with a password, so that it works with
// Debian's default authentication (scram-sha-256 on 127.0.0.1) as well as with trust.
const ROLE = 'ferry_test';
const DEFAULT_URL = `postgres://${ROLE}:${ROLE}@127.0.0.1:5432/${ROLE}`;
const url = process.env.FERRY_TEST_POSTGRES ?? DEFAULT_URL;

async function connects() {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error.message || error.code || String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

let problem = await connects();
if (problem !== undefined && url === DEFAULT_URL && isRoot) {
  // start the cluster Debian created when the package was installed (containers do not start it)
  if (run('pg_isready', ['-q', '-h', '127.0.0.1', '-p', '5432'], { stdio: 'ignore' }) !== 0) {
    const clusters = spawnSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' }).stdout ?? '';
    const [version, name] = clusters.trim().split('\n')[0]?.split(/\s+/) ?? [];
    if (version && name) run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, 'start']);
    for (let i = 0; i < 30; i++) {
      if (run('pg_isready', ['-q', '-h', '127.0.0.1', '-p', '5432'], { stdio: 'ignore' }) === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  // the role and its database, through the local socket as the postgres user (peer authentication)
  const psql = (sql) =>
    spawnSync(
      'runuser',
      ['-u', 'postgres', '--', 'psql', '-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-c', sql],
      {
        cwd: '/',
        encoding: 'utf8',
      },
    );
  if (psql(`SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}'`).stdout?.trim() !== '1')
    psql(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${ROLE}'`);
  if (psql(`SELECT 1 FROM pg_database WHERE datname = '${ROLE}'`).stdout?.trim() !== '1')
    psql(`CREATE DATABASE ${ROLE} OWNER ${ROLE}`);
  problem = await connects();
  if (problem === undefined)
    console.log(`pretest: PostgreSQL test database ready at ${url.replace(/:[^:@/]*@/, ':***@')}`);
}
if (problem !== undefined) {
  console.error(
    url === DEFAULT_URL
      ? `pretest: PostgreSQL at 127.0.0.1:5432 (role and database ${ROLE}) refused: ${problem}; run once as root to create them: sudo npm run pretest (or set FERRY_TEST_POSTGRES=postgres://USER:PASSWORD@HOST:PORT/DB)`
      : `pretest: PostgreSQL at FERRY_TEST_POSTGRES refused: ${problem}`,
  );
  process.exit(1);
}
