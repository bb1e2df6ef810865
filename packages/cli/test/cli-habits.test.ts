import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands/index.js';
import { runCli } from './test-io.helper.js';

/** Issue #25's CLI habits that need no registry (the registry ones: packages/registry/test/cli-accounts.test.ts). */
describe('ferry version', () => {
  it('answers --version, -V and version alike, with the package version', async () => {
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    for (const argv of [['--version'], ['-V'], ['version']]) {
      expect(await runCli(argv)).toEqual({ code: 0, stdout: `ferry ${version}\n`, stderr: '' });
    }
    expect(JSON.parse((await runCli(['version', '--json'])).stdout)).toEqual({ version });
  });
});

describe('ferry help', () => {
  it('ferry help COMMAND is ferry COMMAND --help', async () => {
    const help = await runCli(['help', 'inspect']);
    expect(help).toEqual(await runCli(['inspect', '--help']));
    expect(help.stdout).toMatch(/^Usage: ferry inspect PATH/);
    expect((await runCli(['help', 'inpsect'])).stderr).toMatch(/did you mean 'inspect'\?/);
  });
});

describe('did you mean', () => {
  it('suggests the command a typo was meant for', async () => {
    expect(await runCli(['inspcet', 'x'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "ferry: unknown command 'inspcet' (did you mean 'inspect'? see ferry --help)\n",
    });
    expect((await runCli(['verison'])).stderr).toMatch(/did you mean 'version'\?/);
  });

  it('suggests the option a typo was meant for, in one line', async () => {
    const r = await runCli(['inspect', 'x.onnx', '--jsno']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'ferry inspect: unknown option --jsno (did you mean --json? see ferry inspect --help)\n',
    });
    expect((await runCli(['convert', 'a', '--outptu', 'b'])).stderr).toMatch(/did you mean --output\?/);
    expect((await runCli(['convert', 'a', '-q'])).stderr).toBe(
      'ferry convert: unknown option -q (see ferry convert --help)\n',
    );
  });

  it('takes option values that start with a dash, and everything after --', async () => {
    const r = await runCli(['inspect', '--tag', '-serve', '--', '--not-an-option']);
    expect(r.stderr).not.toMatch(/unknown option/);
  });
});

describe('--json errors', () => {
  it('prints {"error":{"code","message"}} on stdout, the line on stderr, with the same exit code', async () => {
    const cases: [string[], string][] = [
      [['inspect', '/nonexistent/model.onnx', '--json'], 'FERRY_NOT_FOUND'],
      [['inspect', '--json'], 'FERRY_CLI_USAGE'],
      [['inspect', 'x', '--json', '--jsno'], 'FERRY_CLI_UNKNOWN_OPTION'],
      [['frobnicate', '--json'], 'FERRY_CLI_UNKNOWN_COMMAND'],
      [['convert', 'x', '--json', '--output'], 'FERRY_CLI_USAGE'],
    ];
    for (const [argv, code] of cases) {
      const r = await runCli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      const body = JSON.parse(r.stdout);
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error.code).toBe(code);
      expect(typeof body.error.message).toBe('string');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(JSON.parse((await runCli(['inspect', '/nonexistent/model.onnx', '--json'])).stdout)).toEqual({
      error: { code: 'FERRY_NOT_FOUND', message: '/nonexistent/model.onnx: no such file or folder' },
    });
  });
});

describe('--json errors with several problems', () => {
  it('ferry pack: a line per ferry.yaml problem on stderr, all of them in the JSON', async () => {
    const project = await mkdtemp(join(tmpdir(), 'ferry-badpack-'));
    try {
      await writeFile(
        join(project, 'ferry.yaml'),
        'name: x\nversion: "1"\nmodels:\n  - name: m\n    path: /abs.onnx\n    format: onnx\ncolour: red\n',
      );
      const r = await runCli(['pack', project, '--json']);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(2);
      const { error } = JSON.parse(r.stdout);
      expect(error.code).toBe('FERRY_BUNDLE_YAML');
      expect(error.message).toMatch(/colour: unknown field .*\(and 1 more problem\(s\)\)$/);
      expect(error.problems.map((p: { code: string }) => p.code)).toEqual([
        'FERRY_BUNDLE_YAML',
        'FERRY_BUNDLE_YAML',
      ]);
      expect(error.problems[1].message).toMatch(/models\[0\]\.path: "\/abs\.onnx" must be relative/);
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });
});

describe('ferry push of a path that is not there', () => {
  it('is a local "no such file" (FERRY_NOT_FOUND), before any registry is asked', async () => {
    // port 9 (discard) on loopback: nothing listens there; the error must come before any call
    const r = await runCli([
      'push',
      '/nonexistent/nodir',
      '--model',
      'm',
      '--registry',
      'http://127.0.0.1:9',
    ]);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'ferry push: FERRY_NOT_FOUND: /nonexistent/nodir: no such file or folder\n',
    });
  });
});

describe('the command table', () => {
  it("lists each command with the command's own name and summary", async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      expect([command.name, command.summary]).toEqual([entry.name, entry.summary]);
    }
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
  });
});

describe('ferry completion', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-completion-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** What bash's completion offers for the words typed so far (the last one being completed). */
  function complete(words: string[]): string[] {
    const line = [
      `source ${join(dir, 'ferry.bash')}`,
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      '_ferry',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's expansion, not a template
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    return execFileSync('bash', ['-c', line], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH } })
      .split('\n')
      .filter(Boolean);
  }

  it('bash: registers with complete, offers commands, subcommands, options and files', async () => {
    const r = await runCli(['completion', 'bash']);
    expect(r.code).toBe(0);
    await writeFile(join(dir, 'ferry.bash'), r.stdout);
    await writeFile(join(dir, 'model.safetensors'), '');
    const registered = execFileSync('bash', ['-c', `source ${join(dir, 'ferry.bash')}; complete -p ferry`], {
      encoding: 'utf8',
    });
    expect(registered).toBe('complete -o filenames -F _ferry ferry\n');
    expect(complete(['ferry', 'in'])).toEqual(['inspect']);
    expect(complete(['ferry', 've'])).toEqual(['verify', 'version']);
    expect(complete(['ferry', 'models', ''])).toEqual(['ls', 'show', 'rm']);
    expect(complete(['ferry', 'tokens', 're'])).toEqual(['revoke']);
    expect(complete(['ferry', 'runs', 'l'])).toEqual(['log', 'ls']);
    expect(complete(['ferry', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(complete(['ferry', 'help', 'dep'])).toEqual(['deploy']);
    expect(complete(['ferry', 'inspect', '--j'])).toEqual(['--json']);
    expect(complete(['ferry', 'convert', '--ou'])).toEqual(['--output', '--outputs']);
    expect(complete(['ferry', 'inspect', 'mod'])).toEqual(['model.safetensors']);
  });

  it('zsh and fish: every command and its options, from the same table', async () => {
    const zsh = (await runCli(['completion', 'zsh'])).stdout;
    const fish = (await runCli(['completion', 'fish'])).stdout;
    expect(zsh.startsWith('#compdef ferry\n')).toBe(true);
    for (const { name } of COMMANDS) {
      expect(zsh).toContain(`\n    ${name}) _arguments`);
      expect(fish).toContain(` -a ${name} -d `);
    }
    expect(zsh).toContain("'(-o --output)'{-o,--output}'[");
    expect(fish).toMatch(/__fish_seen_subcommand_from convert' -l output -s o -r -d/);
    expect((await runCli(['completion', 'tcsh'])).stderr).toBe(
      'ferry completion: completion takes one shell: bash, zsh or fish (see ferry completion --help)\n',
    );
  });
});
