import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Deployment, RegistryClient } from '@ferry/registry-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { track } from '../../../scripts/test/children.js';
import type { RegistryServer } from '../src/index.js';
import { ferry } from './ferry-cli.helper.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';
import { spawnRegistry } from './processes.helper.js';

const BIN = fileURLToPath(new URL('../../cli/bin/ferry.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../fixtures/deploy/', import.meta.url));
/** Short on purpose (the default is 30 s): the test waits for expiry, not minutes of sleep. */
const EXPIRY_MS = 3_000;
const HEARTBEAT_S = '0.25';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `ferry serve models:/team/pub@prod --name beat` in its own process, as a user runs it. */
async function spawnServe(registry: string, token: string, cache: string, extra: readonly string[] = []) {
  const child: ChildProcess = track(
    spawn(
      process.execPath,
      [
        BIN,
        'serve',
        'models:/team/pub@prod',
        '--name',
        'beat',
        '--registry',
        registry,
        '--token',
        token,
        '--serve-port',
        '0',
        '--cache-dir',
        cache,
        '--heartbeat',
        HEARTBEAT_S,
        '--log-level',
        'warn',
        '--json',
        ...(extra.length > 0 ? extra : ['--poll-interval', '0.25']),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const m = /"httpPort":(\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`ferry serve exited with ${code}:\n${output}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async kill(signal: NodeJS.Signals) {
      child.kill(signal);
      await exited;
    },
  };
}

for (const { name, open } of BACKENDS) {
  describe(`deployment heartbeats: every endpoint, offline after expiry (${name})`, async () => {
    const backend = await open();
    if (!backend) {
      it.skip(`${name} is not available here`, () => undefined);
      return;
    }
    let server: RegistryServer & { url: string };
    let admin: RegistryClient;
    let caches: string;

    beforeAll(async () => {
      server = await startServer(backend as Backend, {
        deploymentExpiryMs: EXPIRY_MS,
        webhooks: { pollMs: 50, baseDelayMs: 50, maxAttempts: 3 },
        // the servers under test subscribe to alias events at 127.0.0.1, refused by default
        webhookTargets: { allow: ['127.0.0.0/8'] },
      });
      admin = new RegistryClient({ url: server.url, token: server.adminToken });
      await admin.push(join(FIXTURES, 'v1'), { model: 'team/pub', alias: 'prod' });
      caches = await mkdtemp(join(tmpdir(), 'ferry-heartbeat-'));
    }, 60_000);

    afterAll(async () => {
      await server?.close();
      await backend.cleanup();
      if (caches) await rm(caches, { recursive: true, force: true });
    });

    it('two real servers both show serving; kill -9 one: offline after expiry, the other still serving; SIGTERM the last: offline at once', async () => {
      const token = server.adminToken!;
      const [a, b] = await Promise.all([
        spawnServe(server.url, token, join(caches, 'a')),
        spawnServe(server.url, token, join(caches, 'b')),
      ]);
      const of = (d: Deployment, endpoint: string) => d.endpoints.find((e) => e.endpoint === endpoint);
      await waitFor('both endpoints serving', async () => {
        const d = await admin.getDeployment('beat');
        return of(d, a.endpoint)?.status === 'serving' && of(d, b.endpoint)?.status === 'serving'
          ? true
          : undefined;
      });

      // the API the UI lists from and `deploy ls --json` keep both; the table shows a row for each
      const listed = (await admin.listDeployments()).find((d) => d.name === 'beat')!;
      expect(listed).toMatchObject({ status: 'serving', liveVersion: 1 });
      expect(listed.endpoints.map((e) => [e.endpoint, e.status, e.liveVersion]).sort()).toEqual(
        [
          [a.endpoint, 'serving', 1],
          [b.endpoint, 'serving', 1],
        ].sort(),
      );
      const auth = ['--registry', server.url, '--token', token];
      const json = JSON.parse((await ferry('deploy', 'ls', '--json', ...auth)).stdout) as {
        deployments: Deployment[];
      };
      expect(json.deployments.find((d) => d.name === 'beat')!.endpoints).toHaveLength(2);
      const table = (await ferry('deploy', 'ls', ...auth)).stdout;
      expect(table).toMatch(/beat +models:\/team\/pub@prod +1 +serving +http:\/\/127\.0\.0\.1:\d+/);
      expect(table.split('\n').filter((l) => / 1 +serving +http/.test(l))).toHaveLength(2);

      // kill -9: no goodbye; the heartbeat stops and the endpoint expires
      const killedAt = Date.now();
      await a.kill('SIGKILL');
      const afterKill = await waitFor('the killed endpoint offline', async () => {
        const d = await admin.getDeployment('beat');
        return of(d, a.endpoint)?.status === 'offline' ? d : undefined;
      });
      const tookMs = Date.now() - killedAt;
      expect(tookMs).toBeGreaterThan(EXPIRY_MS - 1_000);
      // polled every 50 ms; the slack is for a loaded machine
      expect(tookMs).toBeLessThan(EXPIRY_MS + 10_000);
      expect(of(afterKill, a.endpoint)).toMatchObject({ liveVersion: null });
      expect(of(afterKill, a.endpoint)!.message).toMatch(/^no heartbeat since .* \(expiry 3 s\)$/);
      expect(afterKill).toMatchObject({ status: 'serving', endpoint: b.endpoint, liveVersion: 1 });
      const mixed = (await ferry('deploy', 'ls', ...auth)).stdout;
      expect(mixed).toContain(`serving  ${b.endpoint}`);
      expect(mixed).toMatch(
        new RegExp(`- +offline +${a.endpoint.replace(/\./g, '\\.')} +no heartbeat since`),
      );

      // a clean stop says so at once: no wait for expiry
      const stoppedAt = Date.now();
      await b.kill('SIGTERM');
      const gone = await admin.getDeployment('beat');
      expect(Date.now() - stoppedAt).toBeLessThan(EXPIRY_MS);
      expect(gone).toMatchObject({ status: 'offline', endpoint: null, liveVersion: null });
      expect(of(gone, b.endpoint)).toMatchObject({ status: 'offline', message: 'the server stopped' });
      const ls = (await ferry('deploy', 'ls', ...auth)).stdout;
      expect(ls).not.toContain('serving');
      expect(ls).toMatch(/beat +models:\/team\/pub@prod +- +offline/);
    }, 180_000);

    it('alias set --wait returns once the servers following the alias serve the new version; a failed load is FERRY_REGISTRY_ROLLOUT', async () => {
      const token = server.adminToken!;
      const auth = ['--registry', server.url, '--token', token];
      const v2 = (await admin.push(join(FIXTURES, 'v2'), { model: 'team/pub' })).version;
      const broken = (await admin.push(join(FIXTURES, 'broken'), { model: 'team/pub' })).version;
      await admin.setAlias('team/pub', 'prod', 1);
      // a poll once a minute: only the alias event can switch it within the test
      const s = await spawnServe(server.url, token, join(caches, 'wait'), ['--poll-interval', '60']);
      try {
        await waitFor('serving version 1', async () => {
          const d = await admin.getDeployment('beat');
          return d.endpoints.some((e) => e.endpoint === s.endpoint && e.status === 'serving')
            ? true
            : undefined;
        });
        const version = async () =>
          ((await (await fetch(`${s.endpoint}/v2/models/beat`)).json()) as { versions: string[] }).versions;
        expect(await version()).toEqual(['1']);
        const started = Date.now();
        const moved = await ferry('alias', 'set', 'team/pub', 'prod', String(v2), '--wait', ...auth);
        const tookMs = Date.now() - started;
        expect(moved).toMatchObject({ code: 0, stderr: '' });
        expect(moved.stdout).toBe(
          `models:/team/pub@prod -> version ${v2}\n1 server(s) of beat serve version ${v2}\n`,
        );
        // right after it returns, the server answers from the new version (no sleep)
        expect(await version()).toEqual([String(v2)]);
        expect(tookMs).toBeLessThan(30_000);

        const failed = await ferry(
          'alias',
          'set',
          'team/pub',
          'prod',
          String(broken),
          '--wait',
          '--timeout',
          '20',
          ...auth,
        );
        expect(failed.code).toBe(2);
        expect(failed.stderr).toMatch(
          new RegExp(
            `^ferry alias: FERRY_REGISTRY_ROLLOUT: models:/team/pub@prod -> version ${broken}: deployment beat at http://127\\.0\\.0\\.1:\\d+ failed: version ${broken} failed to load: .*; version ${v2} keeps serving\\n$`,
          ),
        );
        expect(await version()).toEqual([String(v2)]);

        // back on a version that loads before the server stops
        await admin.setAlias('team/pub', 'prod', v2);
        await waitFor('back on the good version', async () =>
          (await admin.getDeployment('beat')).endpoints.every((e) => e.status !== 'failed')
            ? true
            : undefined,
        );
      } finally {
        await s.kill('SIGTERM');
      }
      const none = await ferry('alias', 'set', 'team/pub', 'canary', '1', '--wait', ...auth);
      expect(none.stdout).toBe(
        'models:/team/pub@canary -> version 1\nno deployment follows models:/team/pub@canary: nothing to wait for\n',
      );
    }, 180_000);

    it('alias set --wait gives up after --timeout, naming the server that did not switch; an expired one is not waited for', async () => {
      const auth = ['--registry', server.url, '--token', server.adminToken!];
      await admin.setAlias('team/pub', 'slow', 1);
      await admin.putDeployment('stuck', { model: 'team/pub', alias: 'slow' });
      // a server that says it serves version 1 and never moves: its heartbeat, every 250 ms
      const beat = () =>
        admin.reportDeployment('stuck', {
          status: 'serving',
          liveVersion: 1,
          endpoint: 'http://127.0.0.1:9',
        });
      await beat();
      const heart = setInterval(() => void beat(), 250);
      const v2 = (await admin.push(join(FIXTURES, 'v2'), { model: 'team/pub' })).version;
      const stuck = await ferry(
        'alias',
        'set',
        'team/pub',
        'slow',
        String(v2),
        '--wait',
        '--timeout',
        '1',
        ...auth,
      ).finally(() => clearInterval(heart));
      expect(stuck.code).toBe(2);
      expect(stuck.stdout).toBe('');
      expect(stuck.stderr).toBe(
        `ferry alias: FERRY_REGISTRY_ROLLOUT: models:/team/pub@slow -> version ${v2}: not switched after 1 s: stuck at http://127.0.0.1:9 serves 1\n`,
      );
      // once its heartbeat expired it is offline: nothing left to wait for
      await waitFor('the silent endpoint offline', async () =>
        (await admin.getDeployment('stuck')).status === 'offline' ? true : undefined,
      );
      const moved = await ferry('alias', 'set', 'team/pub', 'slow', '1', '--wait', '--timeout', '5', ...auth);
      expect(moved).toMatchObject({ code: 0, stderr: '' });
      expect(moved.stdout).toBe('models:/team/pub@slow -> version 1\n0 server(s) of stuck serve version 1\n');
      expect(
        (await ferry('alias', 'set', 'team/pub', 'slow', '1', '--timeout', '5', ...auth)).stderr,
      ).toContain('--timeout applies to --wait');
    }, 180_000);
  });
}

describe('ferry registry serve --deployment-expiry (a real registry process)', () => {
  it('reads an endpoint offline once its heartbeat is older than the flag says; a bad value is one line, exit 2', async () => {
    const data = await mkdtemp(join(tmpdir(), 'ferry-expiry-'));
    const registry = await spawnRegistry(['--data', data, '--deployment-expiry', '1']);
    try {
      const token = (await readFile(join(data, 'admin-token'), 'utf8')).trim();
      const client = new RegistryClient({ url: registry.url, token });
      await client.push(join(FIXTURES, 'v1'), { model: 'team/x', alias: 'prod' });
      await client.putDeployment('x', { model: 'team/x', alias: 'prod' });
      const reported = await client.reportDeployment('x', {
        status: 'serving',
        liveVersion: 1,
        endpoint: 'http://127.0.0.1:9',
      });
      expect(reported.status).toBe('serving');
      const offline = await waitFor('offline after 1 s', async () => {
        const d = await client.getDeployment('x');
        return d.status === 'offline' ? d : undefined;
      });
      expect(offline.endpoints[0]!.message).toMatch(/^no heartbeat since .* \(expiry 1 s\)$/);
    } finally {
      await registry.stop();
      await rm(data, { recursive: true, force: true });
    }
    const bad = await ferry('registry', 'serve', '--deployment-expiry', 'soon', '--port', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^ferry registry: .*--deployment-expiry.*soon.*\n$/);
  }, 120_000);
});
