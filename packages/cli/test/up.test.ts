import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/ferry.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../fixtures/deploy/', import.meta.url));

interface Up {
  child: ChildProcess;
  output: () => string;
  registry: string;
  inference: string;
}

/** Spawns the built CLI (`npm test` builds it first) and waits for its last start-up line. */
async function spawnUp(args: readonly string[], lastLine: RegExp): Promise<Up> {
  const child = spawn(process.execPath, [BIN, 'up', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ferry up did not start in 40 s:\n${output}`)), 40_000);
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
    const curl = /curl -s (\S+) -d '(.+)'/.exec(up!.output())!;
    expect(curl[1]).toBe(`${up!.inference}/v2/models/demo-classifier/infer`);
    const response = await fetch(curl[1]!, { method: 'POST', body: curl[2]! });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { model_version: string; outputs: { data: number[] }[] };
    expect(body.model_version).toBe('1');
    // the first row of torch's output for version 1 (the printed request is the first input row)
    const want = expected.outputs.v1!.data.slice(0, 3);
    body.outputs[0]!.data.forEach((x, i) => {
      expect(x).toBeCloseTo(want[i]!, 5);
    });
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
