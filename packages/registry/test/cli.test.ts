import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryServer } from '../src/index.js';
import { ferry } from './ferry-cli.helper.js';
import { BACKENDS, type Backend, startServer } from './harness.helper.js';

/** A real pickle that calls builtins.eval (fixtures/make/pickle_corpus.py): the scan says unsafe. */
const EVAL_PICKLE = fileURLToPath(
  new URL('../../../fixtures/pickle/corpus/builtin_eval_py2.pkl', import.meta.url),
);

describe('ferry registry commands (sqlite+folder)', () => {
  let backend: Backend;
  let server: RegistryServer & { url: string };
  let work: string;
  let auth: string[];
  const saved = { ...process.env };

  beforeAll(async () => {
    backend = (await BACKENDS[0]!.open())!;
    server = await startServer(backend);
    work = await mkdtemp(join(tmpdir(), 'ferry-cli-'));
    process.env.FERRY_CONFIG_DIR = join(work, 'config');
    delete process.env.FERRY_TOKEN;
    delete process.env.FERRY_REGISTRY;
    auth = ['--registry', server.url, '--token', server.adminToken!];
  });
  afterAll(async () => {
    process.env = saved;
    await server?.close();
    await backend?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it('push, models ls/show, alias, pull, lineage, runs, rm', async () => {
    const src = join(work, 'src');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'weights.bin'), Buffer.alloc(3000, 1));
    await writeFile(join(src, 'config.json'), '{}');

    const run = await ferry(
      'runs',
      'create',
      '--name',
      'train',
      '--param',
      'lr=0.1',
      '--input',
      `mnist@${'a'.repeat(64)}`,
      ...auth,
    );
    expect(run.code).toBe(0);
    const runId = run.stdout.trim();
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    const logged = await ferry(
      'runs',
      'log',
      runId,
      '--metric',
      'loss=0.5@1',
      '--metric',
      'loss=0.25@2',
      '--metric',
      'acc=0.9',
      '--status',
      'finished',
      ...auth,
    );
    expect(logged.stdout).toContain('finished');
    expect(logged.stdout).toMatch(/loss\s+1\s+0\.5\nloss\s+2\s+0\.25/);

    const pushed = await ferry(
      'push',
      src,
      '--model',
      'team/cli',
      '--alias',
      'prod',
      '--run',
      runId,
      ...auth,
    );
    expect(pushed).toMatchObject({ code: 0, stderr: '' });
    expect(pushed.stdout).toBe(
      'pushed models:/team/cli/1: 2 file(s), 2.93 KiB, scan unknown, aliases prod\n',
    );

    const ls = await ferry('models', 'ls', ...auth);
    expect(ls.stdout).toMatch(
      /^name\s+latest\s+scan\s+aliases\s+visibility\s+description\nteam\/cli\s+1\s+unknown\s+prod=1\s+public/,
    );
    const show = await ferry('models', 'show', 'team/cli', ...auth);
    expect(show.stdout).toContain('aliases: prod -> 1');
    expect(show.stdout).toMatch(/\n\s+1\s+ready\s+unknown\s+2\s+2.93 KiB\s+prod\s+[0-9a-f]{8}/);

    const out = join(work, 'out');
    // weights.bin is bytes no reader claims: scan unknown, so pull refuses it without --allow-unsafe
    const refused = await ferry('pull', 'models:/team/cli@prod', '-o', out, ...auth);
    expect(refused.stderr).toMatch(
      /^ferry pull: FERRY_REGISTRY_UNVERIFIED: version team\/cli\/1 was not shown safe/,
    );
    const pulled = await ferry('pull', 'models:/team/cli@prod', '-o', out, '--allow-unsafe', ...auth);
    expect(pulled.stdout).toBe(
      `pulled models:/team/cli/1 into ${out}: 2 file(s), 2.93 KiB, sha256 verified\n`,
    );
    expect(await readFile(join(out, 'weights.bin'))).toEqual(Buffer.alloc(3000, 1));

    await writeFile(join(src, 'weights.bin'), Buffer.alloc(3000, 2));
    expect(
      (
        await ferry(
          'push',
          src,
          '--model',
          'team/cli-small',
          '--derived-from',
          'models:/team/cli@prod',
          ...auth,
        )
      ).code,
    ).toBe(0);
    const lineage = await ferry('lineage', 'models:/team/cli@prod', ...auth);
    expect(lineage.stdout).toBe(
      [
        'models:/team/cli/1',
        'upstream:',
        `  models:/team/cli/1 <-output- run:${runId}`,
        `  run:${runId} <-input- ${lineage.stdout.match(/dataset:[0-9a-f]{32}/)![0]}`,
        'downstream:',
        '  models:/team/cli/1 -derived-> models:/team/cli-small/1',
        '',
      ].join('\n'),
    );

    const json = await ferry('models', 'show', 'team/cli', '--json', ...auth);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'team/cli', versions: [{ version: 1, runId }] });

    expect((await ferry('alias', 'set', 'team/cli', 'old', '1', ...auth)).stdout).toBe(
      'models:/team/cli@old -> version 1\n',
    );
    expect((await ferry('alias', 'rm', 'team/cli', 'old', ...auth)).stdout).toBe(
      'removed models:/team/cli@old\n',
    );
    const rmNo = await ferry('models', 'rm', 'team/cli-small', ...auth);
    expect(rmNo.code).toBe(2);
    expect((await ferry('models', 'rm', 'team/cli-small', '--yes', ...auth)).stdout).toBe(
      'deleted team/cli-small\n',
    );
  }, 180_000); // a long session of commands; under a loaded CI machine it took over the default 60 s

  it('push of an unsafe pickle: exit 1 with the findings, stored unaliased; ls marks it; --allow-unsafe aliases it', async () => {
    const src = join(work, 'unsafe');
    await mkdir(src, { recursive: true });
    await copyFile(EVAL_PICKLE, join(src, 'model.pkl'));
    const pushed = await ferry('push', src, '--model', 'team/evil', '--alias', 'prod', ...auth);
    expect(pushed.code).toBe(1);
    expect(pushed.stdout).toBe(
      'pushed models:/team/evil/1: 1 file(s), 32 B, scan unsafe\n' +
        'model.pkl: pickle: unsafe (1 findings)\n' +
        '  CRITICAL dangerous-call: calls builtins.eval: runs code, reads files or loads more pickles [byte 30]\n',
    );
    expect(pushed.stderr).toBe(
      'ferry push: models:/team/evil/1 is unsafe: stored (pulls and serving refuse it without an override), alias prod not moved; --allow-unsafe to accept it\n',
    );
    const json = await ferry('push', src, '--model', 'team/evil', '--alias', 'prod', '--json', ...auth);
    expect(json.code).toBe(1);
    const body = JSON.parse(json.stdout) as {
      version: number;
      scan: string;
      aliases: string[];
      findings: { path: string; findings: { rule: string }[] }[];
    };
    expect(body).toMatchObject({ version: 1, scan: 'unsafe', aliases: [] });
    expect(body.findings[0]).toMatchObject({ path: 'model.pkl', findings: [{ rule: 'dangerous-call' }] });
    // the lists show the verdict: the CLI's table and the API the UI lists from
    const ls = await ferry('models', 'ls', '--search', 'evil', ...auth);
    expect(ls.stdout).toMatch(/\nteam\/evil\s+1\s+unsafe\s+-\s+public/);
    const listed = await (await fetch(`${server.url}/api/v1/models?search=evil`)).json();
    expect((listed as { models: { latestScan: string }[] }).models[0]!.latestScan).toBe('unsafe');
    const allowed = await ferry(
      'push',
      src,
      '--model',
      'team/evil',
      '--alias',
      'prod',
      '--allow-unsafe',
      ...auth,
    );
    expect(allowed).toMatchObject({ code: 0, stderr: '' });
    expect(allowed.stdout).toMatch(
      /^pushed models:\/team\/evil\/1: 1 file\(s\), 32 B, scan unsafe, aliases prod\n/,
    );
  });

  it('pull writes nothing over a different file without --force; the same content is kept as it is', async () => {
    const src = join(work, 'overwrite-src');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'a.json'), '{"a": 1}');
    await writeFile(join(src, 'b.json'), '{"b": 2}');
    expect((await ferry('push', src, '--model', 'team/files', '--alias', 'prod', ...auth)).code).toBe(0);
    const out = join(work, 'overwrite-out');
    await mkdir(out, { recursive: true });
    // a.json identical (kept, not rewritten), b.json different (refused): nothing is written at all
    await writeFile(join(out, 'a.json'), '{"a": 1}');
    await writeFile(join(out, 'b.json'), 'mine');
    const before = (await stat(join(out, 'a.json'))).mtimeMs;
    const refused = await ferry('pull', 'models:/team/files@prod', '-o', out, ...auth);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      new RegExp(
        `^ferry pull: FERRY_REGISTRY_CONFLICT: file ${join(out, 'b.json')}: exists and differs from the version's b.json \\(sha256 [0-9a-f]{12}\\.\\.\\.\\): nothing was written; pass --force to overwrite it\n$`,
      ),
    );
    expect(await readFile(join(out, 'b.json'), 'utf8')).toBe('mine');
    expect((await readdir(out)).sort()).toEqual(['a.json', 'b.json']);
    // same content everywhere: fine, and nothing rewritten
    await writeFile(join(out, 'b.json'), '{"b": 2}');
    const same = await ferry('pull', 'models:/team/files@prod', '-o', out, ...auth);
    expect(same.code).toBe(0);
    expect((await stat(join(out, 'a.json'))).mtimeMs).toBe(before);
    await writeFile(join(out, 'b.json'), 'mine again');
    const forced = await ferry('pull', 'models:/team/files@prod', '-o', out, '--force', ...auth);
    expect(forced.code).toBe(0);
    expect(await readFile(join(out, 'b.json'), 'utf8')).toBe('{"b": 2}');
  });

  it('login saves the token; later commands use it; errors are one line with the code', async () => {
    const anon = await ferry('models', 'rm', 'team/cli', '--yes', '--registry', server.url);
    expect(anon.code).toBe(2);
    expect(anon.stderr).toBe(
      'ferry models: FERRY_REGISTRY_UNAUTHORIZED: admin access needs a token (Authorization: Bearer ferry_...) (no token was given: set FERRY_TOKEN, pass --token, or run ferry login)\n',
    );
    const login = await ferry('login', ...auth);
    expect(login.stdout).toMatch(
      new RegExp(`^logged in to ${server.url} as admin \\(admin:\\*\\); token saved in `),
    );
    process.env.FERRY_REGISTRY = server.url;
    const show = await ferry('models', 'show', 'team/cli', '--json');
    expect(JSON.parse(show.stdout).name).toBe('team/cli');
    const missing = await ferry('pull', 'models:/team/cli@nope', '-o', join(work, 'x'));
    expect(missing.stderr).toBe('ferry pull: FERRY_REGISTRY_NOT_FOUND: alias team/cli@nope does not exist\n');
    const badUri = await ferry('pull', 'team/cli', '-o', join(work, 'x'));
    expect(badUri.stderr).toMatch(
      /^ferry pull: FERRY_REGISTRY_BAD_REQUEST: model URI "team\/cli": must start with models:\//,
    );
  });
});

describe('ferry registry serve --auth none (local development)', () => {
  it('lets any caller write, as the local admin', async () => {
    const backend = (await BACKENDS[0]!.open())!;
    const server = await startServer(backend, { auth: 'none' });
    const work = await mkdtemp(join(tmpdir(), 'ferry-noauth-'));
    try {
      expect(server.adminToken).toBeUndefined();
      await writeFile(join(work, 'w.bin'), 'weights');
      const pushed = await ferry('push', join(work, 'w.bin'), '--model', 'dev/m', '--registry', server.url);
      expect(pushed.stdout).toBe('pushed models:/dev/m/1: 1 file(s), 7 B, scan safe\n'); // plain text
      const me = await (await fetch(`${server.url}/api/v1/whoami`)).json();
      expect(me).toEqual({ user: 'local', anonymous: false, scopes: ['admin:*'] });
    } finally {
      await server.close();
      await backend.cleanup();
      await rm(work, { recursive: true, force: true });
    }
  });
});
