import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RegistryServer, startRegistry } from '@ferry/registry';
import { RegistryClient } from '@ferry/registry-client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/index.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/deploy/', import.meta.url));

interface Expected {
  input: { name: string; shape: number[]; data: number[] };
  outputs: Record<'v1' | 'v2', { name: string; shape: number[]; data: number[] }>;
}

/** Bounds on the load: it stops when the alias moves are done, or at these limits, whichever first. */
const MAX_REQUESTS = 20_000;
const MAX_LOAD_MS = 60_000;
const CLIENTS = 4;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Which fixture version a whole answer equals (every row), or undefined for anything else. */
function versionOf(data: number[], expected: Expected): 'v1' | 'v2' | undefined {
  for (const v of ['v1', 'v2'] as const) {
    const want = expected.outputs[v].data;
    if (
      data.length === want.length &&
      data.every((x, i) => Math.abs(x - want[i]!) <= 1e-5 * (1 + Math.abs(want[i]!)))
    )
      return v;
  }
  return undefined;
}

describe('deployments follow aliases (real registry + real server)', () => {
  let expected: Expected;
  let data: string;
  let registry: RegistryServer & { url: string };
  let client: RegistryClient;
  let server: RunningServer;
  let base: string;
  const MODEL = 'demo/classifier';
  const NAME = 'demo-classifier';
  const numbers: Record<'v1' | 'v2' | 'broken', number> = { v1: 0, v2: 0, broken: 0 };

  beforeAll(async () => {
    expected = JSON.parse(await readFile(join(FIXTURES, 'expected.json'), 'utf8')) as Expected;
    data = await mkdtemp(join(tmpdir(), 'ferry-deploy-'));
    registry = await startRegistry({
      data: join(data, 'registry'),
      port: 0,
      log: () => undefined,
      webhooks: { pollMs: 50, baseDelayMs: 50, maxAttempts: 3 },
      // The server under test subscribes at 127.0.0.1, a private target the registry refuses by default.
      webhookTargets: { allow: ['127.0.0.0/8'] },
    });
    client = new RegistryClient({ url: registry.url, token: registry.adminToken });
    for (const v of ['v1', 'v2', 'broken'] as const)
      numbers[v] = (await client.push(join(FIXTURES, v), { model: MODEL })).version;
    await client.setAlias(MODEL, 'prod', numbers.v1);
    await client.putDeployment(NAME, { model: MODEL, alias: 'prod' });
    server = await startServer({
      registry: { client, cacheDir: join(data, 'cache') },
      httpPort: 0,
      grpcPort: null,
      pollIntervalMs: 50,
      logger: pino({ level: 'silent' }),
    });
    base = `http://127.0.0.1:${server.httpPort}`;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await registry?.close();
    if (data) await rm(data, { recursive: true, force: true });
  });

  const liveVersions = async () =>
    ((await (await fetch(`${base}/v2/models/${NAME}`)).json()) as { versions: string[] }).versions;

  const waitLive = (version: number) =>
    waitFor(`version ${version} live`, async () => {
      const live = await liveVersions();
      return live.length === 1 && live[0] === String(version) ? true : undefined;
    });

  const infer = async () => {
    const response = await fetch(`${base}/v2/models/${NAME}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'x', datatype: 'FP32', shape: expected.input.shape, data: expected.input.data }],
      }),
    });
    const text = await response.text();
    return { status: response.status, text };
  };

  it('resolves the alias, verifies and loads the version, and says which is live', async () => {
    expect(await liveVersions()).toEqual([String(numbers.v1)]);
    const { status, text } = await infer();
    expect(status).toBe(200);
    const body = JSON.parse(text) as { model_version: string; outputs: { data: number[] }[] };
    expect(body.model_version).toBe(String(numbers.v1));
    expect(versionOf(body.outputs[0]!.data, expected)).toBe('v1');
    const deployment = await waitFor('the first report', async () => {
      const d = await client.getDeployment(NAME);
      return d.status === 'serving' ? d : undefined;
    });
    expect(deployment).toMatchObject({
      model: MODEL,
      alias: 'prod',
      liveVersion: numbers.v1,
      endpoint: base,
    });
    // the registry answers where each version is deployed
    expect((await client.listDeployments(MODEL)).map((d) => [d.name, d.liveVersion])).toEqual([
      [NAME, numbers.v1],
    ]);
  });

  it('moves back and forth ten times under constant load: no failure, every answer whole from one version', async () => {
    let stop = false;
    const failures: string[] = [];
    const seen = { v1: 0, v2: 0 };
    let sent = 0;
    const started = Date.now();
    const worker = async () => {
      while (!stop && sent < MAX_REQUESTS && Date.now() - started < MAX_LOAD_MS) {
        sent++;
        const { status, text } = await infer().catch((e: Error) => ({ status: 0, text: e.message }));
        if (status !== 200) {
          failures.push(`${status}: ${text.slice(0, 200)}`);
          continue;
        }
        const body = JSON.parse(text) as { model_version: string; outputs: { data: number[] }[] };
        const from = versionOf(body.outputs[0]!.data, expected);
        // the whole answer equals one version's output, and that version is the one it names
        if (!from || body.model_version !== String(numbers[from]))
          failures.push(`mixed or wrong answer: ${text.slice(0, 300)}`);
        else seen[from]++;
      }
    };
    const load = Promise.all(Array.from({ length: CLIENTS }, worker));
    const moves: number[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const target = i % 2 === 0 ? numbers.v2 : numbers.v1;
        const before = seen.v1 + seen.v2;
        await client.setAlias(MODEL, 'prod', target);
        await waitLive(target);
        moves.push(target);
        // let some requests land on this version before moving again
        await waitFor('requests on the new version', async () =>
          seen.v1 + seen.v2 >= before + 10 ? true : undefined,
        );
      }
    } finally {
      stop = true;
      await load;
    }
    expect(moves).toHaveLength(10);
    expect(failures).toEqual([]);
    expect(seen.v1).toBeGreaterThan(0);
    expect(seen.v2).toBeGreaterThan(0);
    expect(seen.v1 + seen.v2).toBe(sent);
    // rolled back to v1 by the tenth move
    expect(await liveVersions()).toEqual([String(numbers.v1)]);
    const d = await waitFor('the report of the last move', async () => {
      const got = await client.getDeployment(NAME);
      return got.liveVersion === numbers.v1 && got.status === 'serving' ? got : undefined;
    });
    expect(d.message).toBe('');
  }, 120_000);

  it('a broken version aliased keeps the old one serving and is reported (log, metrics, registry)', async () => {
    await client.setAlias(MODEL, 'prod', numbers.broken);
    const failed = await waitFor('the failure report', async () => {
      const d = await client.getDeployment(NAME);
      return d.status === 'failed' ? d : undefined;
    });
    expect(failed.liveVersion).toBe(numbers.v1);
    expect(failed.message).toContain(`version ${numbers.broken} failed to load`);
    expect(failed.message).toContain(`version ${numbers.v1} keeps serving`);
    // still answering, from the old version, through several more polls
    for (let i = 0; i < 20; i++) {
      const { status, text } = await infer();
      expect(status).toBe(200);
      expect(
        versionOf((JSON.parse(text) as { outputs: { data: number[] }[] }).outputs[0]!.data, expected),
      ).toBe('v1');
      await sleep(10);
    }
    expect(await liveVersions()).toEqual([String(numbers.v1)]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    // one failure: the broken plan is not retried every poll
    expect(metrics).toMatch(new RegExp(`ferry_model_load_failure_total\\{model="${NAME}"\\} 1\\n`));
    // rolling back = moving the alias back: the failure is over
    await client.setAlias(MODEL, 'prod', numbers.v1);
    const back = await waitFor('serving again', async () => {
      const d = await client.getDeployment(NAME);
      return d.status === 'serving' ? d : undefined;
    });
    expect(back.liveVersion).toBe(numbers.v1);
    const audit = await client.audit({ target: `deployment:${NAME}` });
    expect(audit.map((e) => e.action)).toContain('deployment.report');
  }, 60_000);

  it('an alias.moved webhook switches at once, without waiting for the poll', async () => {
    await client.setAlias(MODEL, 'canary', numbers.v1);
    const hooked = await startServer({
      registry: {
        client,
        cacheDir: join(data, 'cache'),
        deployments: [{ name: 'canary', model: MODEL, alias: 'canary' }],
      },
      httpPort: 0,
      grpcPort: null,
      // ten minutes: within this test only the registry's event can make it reload
      pollIntervalMs: 600_000,
      logger: pino({ level: 'silent' }),
    });
    try {
      const url = `http://127.0.0.1:${hooked.httpPort}`;
      const live = async () =>
        ((await (await fetch(`${url}/v2/models/canary`)).json()) as { versions: string[] }).versions;
      expect(await live()).toEqual([String(numbers.v1)]);
      // an unsigned event is refused
      const forged = await fetch(`${url}/ferry/v1/registry-events`, { method: 'POST', body: '{}' });
      expect(forged.status).toBe(401);
      await client.setAlias(MODEL, 'canary', numbers.v2);
      await waitFor('the webhook-driven switch', async () =>
        (await live())[0] === String(numbers.v2) ? true : undefined,
      );
    } finally {
      await hooked.close();
    }
    // its subscription is gone with it
    const hooks = (await (await client.request('GET', '/api/v1/webhooks')).json()) as {
      webhooks: { url: string }[];
    };
    expect(hooks.webhooks.some((w) => w.url.startsWith(`http://127.0.0.1:${hooked.httpPort}/`))).toBe(false);
  }, 60_000);
});
