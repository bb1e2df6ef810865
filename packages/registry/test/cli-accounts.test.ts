import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryServer } from '../src/index.js';
import { ferry } from './ferry-cli.helper.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

/**
 * Issue #25's account and run commands, driven through the built CLI against a real registry on
 * each backend: whoami, logout, tokens create/ls/revoke, runs ls (GET /api/v1/runs), and what a
 * missing or refused token says.
 */
describe.each(BACKENDS)('ferry whoami, logout, tokens, runs ls ($name)', ({ open }) => {
  let backend: Backend | undefined;
  let server: RegistryServer & { url: string };
  let work: string;
  let admin: string[];
  const saved = { ...process.env };

  beforeAll(async () => {
    backend = await open();
    if (!backend) return;
    server = await startServer(backend);
    work = await mkdtemp(join(tmpdir(), 'ferry-accounts-'));
    process.env.FERRY_CONFIG_DIR = join(work, 'config');
    delete process.env.FERRY_TOKEN;
    process.env.FERRY_REGISTRY = server.url;
    admin = ['--token', server.adminToken!];
  });
  afterAll(async () => {
    process.env = saved;
    await server?.close();
    await backend?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('whoami names the caller, anonymous without a token', async (context) => {
    if (!backend) return context.skip();
    expect(await ferry('whoami', ...admin)).toEqual({
      code: 0,
      stdout: `admin at ${server.url} (admin:*)\n`,
      stderr: '',
    });
    expect((await ferry('whoami')).stdout).toBe(
      `anonymous at ${server.url} (no token: set FERRY_TOKEN or run ferry login)\n`,
    );
    expect(JSON.parse((await ferry('whoami', '--json', ...admin)).stdout)).toEqual({
      registry: server.url,
      user: 'admin',
      anonymous: false,
      scopes: ['admin:*'],
    });
  });

  it('a call that needs a token names FERRY_TOKEN and ferry login; a refused one says so', async (context) => {
    if (!backend) return context.skip();
    const anon = await ferry('tokens', 'ls');
    expect(anon).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'ferry tokens: FERRY_REGISTRY_UNAUTHORIZED: admin access needs a token (Authorization: Bearer ferry_...) (no token was given: set FERRY_TOKEN, pass --token, or run ferry login)\n',
    });
    const json = await ferry('tokens', 'ls', '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.code).toBe('FERRY_REGISTRY_UNAUTHORIZED');
    const wrong = await ferry('whoami', '--token', 'ferry_not-a-token');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      /^ferry whoami: FERRY_REGISTRY_UNAUTHORIZED: .*\(the registry refused the token: /,
    );
  });

  it('tokens create, ls, revoke; the new token works until revoked', async (context) => {
    if (!backend) return context.skip();
    const created = await ferry(
      'tokens',
      'create',
      'alice',
      '--scope',
      'read:*',
      '--scope',
      'write:team/*',
      '--description',
      'ci',
      ...admin,
    );
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^ferry_/);
    expect(created.stderr).toMatch(/^token [0-9a-f-]{36} for alice \(read:\*, write:team\/\*\): shown once/);
    expect((await ferry('whoami', '--token', token)).stdout).toBe(
      `alice at ${server.url} (read:*, write:team/*)\n`,
    );
    const listed = JSON.parse((await ferry('tokens', 'ls', '--json', ...admin)).stdout).tokens as {
      id: string;
      user: string;
      scopes: string[];
      description: string;
    }[];
    const alice = listed.find((t) => t.user === 'alice')!;
    expect(alice).toMatchObject({ scopes: ['read:*', 'write:team/*'], description: 'ci' });
    expect(JSON.stringify(listed)).not.toContain(token); // values are never listed
    const table = (await ferry('tokens', 'ls', ...admin)).stdout;
    expect(table.split('\n')[0]).toMatch(/^id\s+user\s+scopes\s+created\s+description$/);
    expect(table).toContain(alice.id);
    expect(await ferry('tokens', 'revoke', alice.id, ...admin)).toEqual({
      code: 0,
      stdout: `revoked token ${alice.id}\n`,
      stderr: '',
    });
    expect((await ferry('whoami', '--token', token)).code).toBe(2);
    expect((await ferry('tokens', 'revoke', alice.id, ...admin)).stderr).toMatch(/FERRY_REGISTRY_NOT_FOUND/);
    expect((await ferry('tokens', 'create', 'bob', ...admin)).stderr).toMatch(/needs at least one --scope/);
    expect((await ferry('tokens', 'create', 'bob', '--scope', 'root', ...admin)).stderr).toMatch(
      /FERRY_REGISTRY_BAD_REQUEST: scope "root"/,
    );
  });

  it('logout forgets the token login saved, and only that one', async (context) => {
    if (!backend) return context.skip();
    expect((await ferry('login', ...admin)).code).toBe(0);
    const credentials = join(work, 'config', 'credentials.json');
    expect(Object.keys(JSON.parse(await readFile(credentials, 'utf8')))).toEqual([server.url]);
    expect((await ferry('whoami')).stdout).toMatch(/^admin at /);
    expect(await ferry('logout')).toEqual({
      code: 0,
      stdout: `logged out of ${server.url} (saved token removed)\n`,
      stderr: '',
    });
    expect(JSON.parse(await readFile(credentials, 'utf8'))).toEqual({});
    expect((await ferry('whoami')).stdout).toMatch(/^anonymous at /);
    expect(JSON.parse((await ferry('logout', '--json')).stdout)).toEqual({
      registry: server.url,
      removed: false,
    });
  });

  it('runs ls lists runs newest first, a page at a time (GET /api/v1/runs)', async (context) => {
    if (!backend) return context.skip();
    const ids: string[] = [];
    for (const name of ['first', 'second', 'third']) {
      const made = await ferry('runs', 'create', '--name', name, ...admin);
      expect(made.code).toBe(0);
      ids.push(made.stdout.trim());
      await new Promise((r) => setTimeout(r, 5)); // distinct start times
    }
    expect((await ferry('runs', 'log', ids[0]!, '--status', 'finished', ...admin)).code).toBe(0);
    const all = JSON.parse((await ferry('runs', 'ls', '--json')).stdout) as {
      runs: { id: string; name: string; status: string }[];
      total: number;
    };
    expect(all.runs.map((r) => r.name)).toEqual(['third', 'second', 'first']);
    expect(all.total).toBe(3);
    expect(all.runs[2]).toMatchObject({ id: ids[0], status: 'finished' });
    const second = JSON.parse((await ferry('runs', 'ls', '--limit', '1', '--offset', '1', '--json')).stdout);
    expect(second).toMatchObject({ total: 3, runs: [{ name: 'second' }] });
    const table = (await ferry('runs', 'ls')).stdout.split('\n');
    expect(table[0]).toMatch(/^id\s+name\s+status\s+started\s+ended\s+by$/);
    expect(table[1]).toMatch(new RegExp(`^${ids[2]}\\s+third\\s+running\\s`));
    expect(table).toHaveLength(5); // header, 3 runs, and the empty string after the last newline
    const page = (await ferry('runs', 'ls', '--limit', '2')).stdout.trim().split('\n');
    expect(page.at(-1)).toBe('(runs 1-2 of 3; --offset N for others)');
    expect((await ferry('runs', 'ls', '--limit', '0')).stderr).toMatch(/--limit must be/);
  });
});
