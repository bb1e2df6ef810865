import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dropSchema,
  freshSchema,
  hasDockerRegistry,
  hasPostgres,
  POSTGRES_URL,
  type RunningOciRegistry,
  startOciRegistry,
} from '../../../scripts/test/backends.js';
import { track } from '../../../scripts/test/children.js';

const BIN = fileURLToPath(new URL('../bin/ferry.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../fixtures/deploy/', import.meta.url));

/**
 * Runs the curl `ferry up` printed (against `inference`, where this start serves); its answer must
 * be version 1's scores for the first input row, as torch computed them.
 */
async function expectCurlAnswersVersion1(
  output: string,
  inference: string,
  expected: { outputs: Record<string, { data: number[] }> },
): Promise<void> {
  const curl = /curl -s (\S+) -d '(.+)'/.exec(output)!;
  const response = await fetch(curl[1]!.replace(/^http:\/\/[^/]+/, inference), {
    method: 'POST',
    body: curl[2]!,
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { model_version: string; outputs: { data: number[] }[] };
  expect(body.model_version).toBe('1');
  const want = expected.outputs.v1!.data.slice(0, 3);
  body.outputs[0]!.data.forEach((x, i) => {
    expect(x).toBeCloseTo(want[i]!, 5);
  });
}

interface Up {
  child: ChildProcess;
  output: () => string;
  registry: string;
  inference: string;
}

/** Spawns the built CLI (`npm test` builds it first) and waits for its last start-up line. */
async function spawnUp(
  args: readonly string[],
  lastLine: RegExp,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Up> {
  const child = track(
    spawn(process.execPath, [BIN, 'up', '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    }),
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // a start that failed must not leave the process behind
      child.kill('SIGKILL');
      reject(new Error(`ferry up did not start in 40 s:\n${output}`));
    }, 40_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (lastLine.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ferry up exited with ${code}:\n${output}`));
    });
  });
  const url = (label: string) => new RegExp(`ferry up: ${label} +(http://\\S+)`).exec(output)?.[1] ?? '';
  return { child, output: () => output, registry: url('registry'), inference: url('inference') };
}

async function stop(up: Up | undefined): Promise<number | null> {
  if (!up || up.child.exitCode !== null) return up?.child.exitCode ?? null;
  const exited = new Promise<number | null>((r) => up.child.once('exit', (code) => r(code)));
  up.child.kill('SIGTERM');
  return exited;
}

describe('ferry up --demo (the built CLI in its own process)', () => {
  let data: string;
  let up: Up | undefined;
  let expected: { input: { data: number[] }; outputs: Record<string, { data: number[] }> };

  beforeAll(async () => {
    data = await mkdtemp(join(tmpdir(), 'ferry-up-'));
    expected = JSON.parse(await readFile(join(FIXTURES, 'expected.json'), 'utf8'));
    up = await spawnUp(['--data', data, '--demo'], /npx ferry alias set .*\n/);
  }, 60_000);

  afterAll(async () => {
    await stop(up);
    if (data) await rm(data, { recursive: true, force: true });
  });

  it('prints the URLs on 127.0.0.1 and the first-start admin token, kept in DATA/admin-token (0600)', async () => {
    expect(up!.registry).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(up!.inference).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const token = (await readFile(join(data, 'admin-token'), 'utf8')).trim();
    expect(token).toMatch(/^ferry_[A-Za-z0-9_-]{43}$/);
    expect(up!.output()).toContain(`admin token ${token}`);
    expect((await stat(join(data, 'admin-token'))).mode & 0o777).toBe(0o600);
    expect(existsSync(join(data, 'registry.db'))).toBe(true);
  });

  it('answers the printed curl at once, from the demo version aliased prod', async () => {
    expect(/curl -s (\S+) -d/.exec(up!.output())![1]).toBe(
      `${up!.inference}/v2/models/demo-classifier/infer`,
    );
    await expectCurlAnswersVersion1(up!.output(), up!.inference, expected);
  });

  it('the registry API shows the model, its run, dataset, lineage and the live deployment', async () => {
    const token = (await readFile(join(data, 'admin-token'), 'utf8')).trim();
    const get = async (path: string) => {
      const response = await fetch(`${up!.registry}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status, path).toBe(200);
      return response.json() as Promise<Record<string, unknown>>;
    };
    const model = await get('/api/v1/models/demo%2Fclassifier');
    expect(model).toMatchObject({ name: 'demo/classifier', latestVersion: 2 });
    const alias = await get('/api/v1/models/demo%2Fclassifier/aliases/prod');
    expect(alias.version).toBe(1);
    const version = await get('/api/v1/models/demo%2Fclassifier/versions/1');
    const run = await get(`/api/v1/runs/${version.runId as string}`);
    expect(run).toMatchObject({ status: 'finished', params: { epochs: '15', optimizer: 'SGD' } });
    expect((run.metrics as unknown[]).length).toBe(30);
    const lineage = (await get(
      `/api/v1/lineage?node=${encodeURIComponent('models:/demo/classifier/1')}`,
    )) as {
      upstream: { edges: { src: string; dst: string; relation: string }[] };
    };
    const relations = lineage.upstream.edges.map(
      (e) => `${e.src.split(':')[0]}-${e.relation}->${e.dst.split(':')[0]}`,
    );
    expect(relations).toEqual(expect.arrayContaining(['dataset-input->run', 'run-output->models']));
    // the server reports the deployment shortly after it loaded it
    for (let i = 0; i < 200; i++) {
      const d = await get('/api/v1/deployments/demo-classifier');
      if (d.status === 'serving') {
        expect(d).toMatchObject({
          liveVersion: 1,
          uri: 'models:/demo/classifier@prod',
          endpoint: up!.inference,
        });
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the deployment was never reported serving');
  });

  it('stops cleanly on SIGTERM and, restarted on the same folder, serves the deployment again', async () => {
    expect(await stop(up)).toBe(0);
    up = await spawnUp(['--data', data], /ferry up: use it:.*\n/);
    expect(up.output()).toContain(`admin token in ${join(data, 'admin-token')}`);
    expect(up.output()).not.toContain('demo ');
    const metadata = await (await fetch(`${up.inference}/v2/models/demo-classifier`)).json();
    expect(metadata).toMatchObject({ name: 'demo-classifier', versions: ['1'] });
  }, 60_000);
});

const pgPresent = await hasPostgres();
const ociPresent = hasDockerRegistry();

/**
 * The scale-out backends: metadata in PostgreSQL (a fresh schema, chosen through the connection
 * string's search_path as a deployment would), blobs in Debian's docker-registry on loopback.
 */
describe.runIf(pgPresent && ociPresent)('ferry up --demo --db postgres://... --blobs oci://...', () => {
  let oci: RunningOciRegistry | undefined;
  let schema: string | undefined;
  let db: string;
  let blobs: string;
  let first: string;
  let second: string;
  let token: string;
  let up: Up | undefined;
  let expected: { outputs: Record<string, { data: number[] }> };
  /** What the first start printed (its curl line is run against each start's inference URL). */
  let firstOutput = '';

  const api = async (path: string) => {
    const response = await fetch(`${up!.registry}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status, path).toBe(200);
    return response.json() as Promise<Record<string, unknown>>;
  };
  const query = async (sql: string) => {
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      return (await client.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  const curlAnswersVersion1 = () => expectCurlAnswersVersion1(firstOutput, up!.inference, expected);
  beforeAll(async () => {
    expected = JSON.parse(await readFile(join(FIXTURES, 'expected.json'), 'utf8'));
    oci = await startOciRegistry();
    schema = freshSchema();
    const setup = new pg.Client({ connectionString: POSTGRES_URL });
    await setup.connect();
    await setup.query(`CREATE SCHEMA ${schema}`);
    await setup.end();
    db = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    blobs = `oci://${oci.hostPort}/ferry/blobs`;
    first = await mkdtemp(join(tmpdir(), 'ferry-up-pg-a-'));
    second = await mkdtemp(join(tmpdir(), 'ferry-up-pg-b-'));
    up = await spawnUp(['--data', first, '--demo', '--db', db, '--blobs', blobs], /npx ferry alias set .*\n/);
    firstOutput = up.output();
    token = (await readFile(join(first, 'admin-token'), 'utf8')).trim();
  }, 90_000);

  afterAll(async () => {
    await stop(up);
    await oci?.stop();
    if (schema) await dropSchema(schema);
    for (const dir of [first, second]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints the URLs, the backends and the first-start admin token; no SQLite file or blob folder', async () => {
    expect(up!.registry).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(up!.inference).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // a password in the connection string is not printed
    const shown = db.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
    expect(up!.output()).toContain(`ferry up: data       metadata ${shown}; blobs ${blobs}\n`);
    expect(token).toMatch(/^ferry_[A-Za-z0-9_-]{43}$/);
    expect(up!.output()).toContain(`admin token ${token}`);
    expect((await stat(join(first, 'admin-token'))).mode & 0o777).toBe(0o600);
    expect(existsSync(join(first, 'registry.db'))).toBe(false);
    expect(existsSync(join(first, 'blobs'))).toBe(false);
  });

  it('registers the demo in PostgreSQL and keeps its files as blobs in the OCI registry', async () => {
    expect(await query('SELECT full_name FROM models')).toEqual([{ full_name: 'demo/classifier' }]);
    expect(await query('SELECT count(*)::int AS n FROM versions')).toEqual([{ n: 2 }]);
    const catalog = (await (await fetch(`${oci!.endpoint}/v2/_catalog`)).json()) as {
      repositories: string[];
    };
    expect(catalog.repositories).toEqual(['ferry/blobs']);
    for (const n of [1, 2]) {
      const version = (await api(`/api/v1/models/demo%2Fclassifier/versions/${n}`)) as {
        files: { path: string; sha256: string }[];
      };
      expect(version.files.map((f) => f.path)).toEqual(['model.onnx']);
      const blob = await fetch(`${oci!.endpoint}/v2/ferry/blobs/blobs/sha256:${version.files[0]!.sha256}`, {
        method: 'HEAD',
      });
      expect(blob.status).toBe(200);
    }
  });

  it('answers the printed curl at once, from the version aliased prod', async () => {
    expect(/curl -s (\S+)/.exec(up!.output())?.[1]).toBe(`${up!.inference}/v2/models/demo-classifier/infer`);
    await curlAnswersVersion1();
  });

  it('shows the run, its dataset, lineage and the live deployment through the API', async () => {
    expect((await api('/api/v1/models/demo%2Fclassifier/aliases/prod')).version).toBe(1);
    const version = await api('/api/v1/models/demo%2Fclassifier/versions/1');
    const run = await api(`/api/v1/runs/${version.runId as string}`);
    expect(run).toMatchObject({ status: 'finished', params: { epochs: '15', optimizer: 'SGD' } });
    const lineage = (await api(
      `/api/v1/lineage?node=${encodeURIComponent('models:/demo/classifier/1')}`,
    )) as {
      upstream: { edges: { src: string; dst: string; relation: string }[] };
    };
    expect(lineage.upstream.edges.map((e) => `${e.src.split(':')[0]}-${e.relation}->${e.dst}`)).toEqual(
      expect.arrayContaining([
        `run-output->models:/demo/classifier/1`,
        expect.stringMatching(/^dataset-input->run:/),
      ]),
    );
    await expect
      .poll(() => api('/api/v1/deployments/demo-classifier'), { timeout: 15_000, interval: 100 })
      .toMatchObject({ status: 'serving', liveVersion: 1, endpoint: up!.inference });
  });

  it('stops cleanly; a second ferry up on the same database and OCI registry, with a fresh data folder, serves the same models', async () => {
    expect(await stop(up)).toBe(0);
    up = await spawnUp(['--data', second, '--db', db, '--blobs', blobs], /ferry up: use it:.*\n/, {
      ...process.env,
      FERRY_TOKEN: token,
    });
    // Nothing was created on this start: the database already had its admin and the demo.
    expect(up.output()).toContain('ferry up: admin token from FERRY_TOKEN\n');
    expect(up.output()).not.toContain('first start');
    expect(up.output()).not.toContain('demo ');
    expect(existsSync(join(second, 'admin-token'))).toBe(false);
    expect(await api('/api/v1/models/demo%2Fclassifier')).toMatchObject({ latestVersion: 2 });
    const runs = await query('SELECT count(*)::int AS n FROM runs');
    expect(runs).toEqual([{ n: 2 }]);
    await curlAnswersVersion1();
    // this server downloaded version 1 from the OCI registry (through the registry) into its own cache
    expect(existsSync(join(second, 'serve-cache', 'demo--classifier', '1', 'model.onnx'))).toBe(true);
    // and reports the deployment as its own now
    await expect
      .poll(() => api('/api/v1/deployments/demo-classifier'), { timeout: 15_000, interval: 100 })
      .toMatchObject({ status: 'serving', liveVersion: 1, endpoint: up.inference });
    expect(await stop(up)).toBe(0);
  }, 60_000);
});
