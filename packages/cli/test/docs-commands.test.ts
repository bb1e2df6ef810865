/**
 * Every shell command in README.md and docs/*.md, run from a fresh copy of the repository as a
 * user's clone would have it (issue #25): the files git tracks (plus new ones not ignored), with
 * the already built packages and node_modules linked in (a real `npm ci` is minutes; the built CLI
 * is what `npx ferry` runs). Each document's sessions run in one shell, in order, and every
 * command must print what the document shows (docs-blocks.helper.ts says how outputs compare and
 * what the `illustrative` and `background` markers mean). Blocks that are not run still have every
 * ferry flag checked against the command's --help and every repository path checked to exist.
 * Afterwards `git status --porcelain` in the copy must be empty: whatever the docs' commands
 * write (keys, bundles, converted models) is git-ignored.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { track } from '../../../scripts/test/children.js';
import { runCli } from './test-io.helper.js';
import {
  type DocBlock,
  docBlocks,
  ferryInvocations,
  outputMatches,
  repoPaths,
} from './docs-blocks.helper.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** Fixed ports the docs use, each mapped to a free one here (another program may hold 8000). */
const DOC_PORTS = [8080, 8000, 8100];
/** A command that waits on a server started in the background is retried this long. */
const RETRY_MS = 30_000;
const COMMAND_TIMEOUT_MS = 180_000;

const docs = [
  'README.md',
  ...execFileSync('git', ['ls-files', 'docs/*.md'], { cwd: REPO, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean),
];
const blocks: DocBlock[] = docs.flatMap((doc) => docBlocks(doc, readFileSync(join(REPO, doc), 'utf8')));

/** Waits until something accepts connections on 127.0.0.1:port. */
async function listening(port: number, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port} after ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Each subcommand's flags, from its --help (what a user sees; run in-process: one CLI start each is slow). */
const helpFlags = new Map<string, Set<string> | undefined>();
async function flagsOf(sub: string): Promise<Set<string> | undefined> {
  if (!helpFlags.has(sub)) {
    const help = await runCli([sub, '--help']);
    if (help.code !== 0) helpFlags.set(sub, undefined);
    else {
      const flags = new Set<string>();
      for (const m of help.stdout.matchAll(/^ {2}(--[a-z0-9-]+)[^\n]*?(?:, (-[a-zA-Z]))?(?= {2}|$)/gm)) {
        flags.add(m[1]!);
        if (m[2]) flags.add(m[2]);
      }
      helpFlags.set(sub, flags);
    }
  }
  return helpFlags.get(sub);
}

describe('README.md and docs/*.md: every command', () => {
  it('every ferry subcommand and flag exists; every repository path a command names exists', async () => {
    const problems: string[] = [];
    for (const block of blocks) {
      const where = `${block.doc}:${block.line}`;
      const lines = block.commands.length > 0 ? block.commands.map((c) => c.command) : [block.body];
      for (const text of lines) {
        for (const { sub, flags } of ferryInvocations(text)) {
          const known = await flagsOf(sub);
          if (!known) {
            // a synopsis word after `ferry` that is no subcommand (prose in a code block) is not a command
            if (block.commands.length > 0) problems.push(`${where}: ferry ${sub}: no such command`);
            continue;
          }
          for (const flag of flags)
            if (!known.has(flag) && !['--json', '--debug', '--help', '-h'].includes(flag))
              problems.push(`${where}: ferry ${sub} ${flag}: no such flag`);
        }
        for (const path of repoPaths(text))
          if (path.startsWith('../'))
            problems.push(`${where}: ${path}: outside the repository (a clone has no ../)`);
          else if (!existsSync(join(REPO, path.replace(/[*].*$/, ''))))
            problems.push(`${where}: ${path}: not in the repository`);
      }
    }
    // `ferry ...` in the prose's code spans too: a flag named there must exist as well
    for (const doc of docs) {
      const text = readFileSync(join(REPO, doc), 'utf8').replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '');
      for (const m of text.matchAll(/`((?:npx )?ferry [^`]+)`/g))
        for (const { sub, flags } of ferryInvocations(m[1]!)) {
          const known = await flagsOf(sub);
          if (!known) continue;
          for (const flag of flags)
            if (!known.has(flag) && !['--json', '--debug', '--help', '-h'].includes(flag))
              problems.push(`${doc}: \`${m[1]}\`: ferry ${sub} ${flag}: no such flag`);
        }
    }
    expect(problems).toEqual([]);
  }, 120_000);
});

describe('README.md and docs/*.md: the sessions run from a fresh copy and print what they show', () => {
  let copy: string;
  let home: string;
  const ports = new Map<number, number>();
  const background: ChildProcess[] = [];

  beforeAll(async () => {
    copy = await mkdtemp(join(tmpdir(), 'ferry-docs-'));
    home = await mkdtemp(join(tmpdir(), 'ferry-docs-home-'));
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], {
      cwd: REPO,
      encoding: 'utf8',
    })
      .split('\0')
      .filter((f) => f && existsSync(join(REPO, f)));
    for (const f of files) {
      await mkdir(dirname(join(copy, f)), { recursive: true });
      await cp(join(REPO, f), join(copy, f), { preserveTimestamps: true });
    }
    // what `npm ci` would have built: linked, not rebuilt
    await symlink(join(REPO, 'node_modules'), join(copy, 'node_modules'));
    for (const pkg of await readdir(join(REPO, 'packages')))
      for (const built of ['dist', 'build'])
        if (existsSync(join(REPO, 'packages', pkg, built)))
          await symlink(join(REPO, 'packages', pkg, built), join(copy, 'packages', pkg, built));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: copy, stdio: 'pipe' });
    git('init', '-q');
    git('-c', 'user.email=docs@ferry.test', '-c', 'user.name=docs', 'add', '-A');
    git('-c', 'user.email=docs@ferry.test', '-c', 'user.name=docs', 'commit', '-qm', 'clone');
    // `npx ferry` is the built CLI of this copy; npm itself is not started for every line
    await mkdir(join(home, 'bin'));
    await writeFile(
      join(home, 'bin', 'ferry'),
      `#!/bin/sh\nexec "${process.execPath}" "${join(copy, 'packages/cli/bin/ferry.js')}" "$@"\n`,
    );
    await writeFile(
      join(home, 'bin', 'npx'),
      `#!/bin/sh\nif [ "$1" = ferry ]; then shift; exec "${join(home, 'bin', 'ferry')}" "$@"; fi\nexec "${join(dirname(process.execPath), 'npx')}" "$@"\n`,
    );
    await chmod(join(home, 'bin', 'ferry'), 0o755);
    await chmod(join(home, 'bin', 'npx'), 0o755);
    for (const p of DOC_PORTS) ports.set(p, await freePort());
  }, 180_000);

  afterAll(async () => {
    for (const child of background) if (child.exitCode === null) child.kill('SIGKILL');
    if (copy) await rm(copy, { recursive: true, force: true });
    if (home) await rm(home, { recursive: true, force: true });
  });

  /** The doc's fixed ports, as this run's free ones. */
  const mapPorts = (text: string) =>
    text.replace(
      /(localhost:|127\.0\.0\.1:|--serve-port |--port )(\d+)\b/g,
      (all, prefix: string, port: string) => {
        const mapped = ports.get(Number(port));
        return mapped === undefined ? all : `${prefix}${mapped}`;
      },
    );

  // FERRY_DOCS_ONLY=README.md,docs/x.md runs those documents' sessions only (while editing them)
  const runnable = docs
    .filter((doc) => !process.env.FERRY_DOCS_ONLY || process.env.FERRY_DOCS_ONLY.split(',').includes(doc))
    .filter((doc) => blocks.some((b) => b.doc === doc && b.commands.length > 0 && !b.illustrative));
  for (const doc of runnable)
    it(`${doc}`, async () => {
      const shell = track(
        spawn('bash', ['--norc', '--noprofile'], {
          cwd: copy,
          stdio: ['pipe', 'pipe', 'pipe'],
          env: {
            PATH: `${join(home, 'bin')}:${process.env.PATH}`,
            HOME: home,
            FERRY_CONFIG_DIR: join(home, 'config'),
            XDG_CACHE_HOME: join(home, 'cache'),
            LANG: 'C.UTF-8',
            NO_COLOR: '1',
          },
        }),
      );
      background.push(shell);
      let said = '';
      shell.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        said += chunk;
      });
      let n = 0;
      const run = async (command: string): Promise<string> => {
        const out = join(home, `out-${++n}`);
        const done = `__FERRY_DOCS_${n}__`;
        // $? of the previous command is kept for the next (`echo $?` lines in the docs)
        shell.stdin!.write(
          `(exit \${__s:-0}); { ${command}\n} > ${out} 2>&1 < /dev/null; __s=$?; echo ${done}\n`,
        );
        const end = Date.now() + COMMAND_TIMEOUT_MS;
        while (!said.includes(done)) {
          if (Date.now() > end || shell.exitCode !== null) throw new Error(`${command}: did not finish`);
          await new Promise((r) => setTimeout(r, 20));
        }
        return readFile(out, 'utf8');
      };
      let serverStarted = false;
      try {
        for (const block of blocks.filter((b) => b.doc === doc && b.commands.length > 0)) {
          if (block.illustrative) continue;
          if (block.background) {
            const bg = track(
              spawn('bash', ['-c', `exec ${mapPorts(block.background)}`], {
                cwd: copy,
                stdio: 'ignore',
                env: {
                  ...process.env,
                  PATH: `${join(home, 'bin')}:${process.env.PATH}`,
                  HOME: home,
                  FERRY_CONFIG_DIR: join(home, 'config'),
                  XDG_CACHE_HOME: join(home, 'cache'),
                  FERRY_TOKEN: '',
                  FERRY_REGISTRY: '',
                },
              }),
            );
            background.push(bg);
            serverStarted = true;
            // the doc says to start it first: its ports answer before the block's first line runs
            // (its `--port N`, `--serve-port N` and `127.0.0.1:N` addresses, e.g. REGISTRY_HTTP_ADDR=)
            for (const m of mapPorts(block.background).matchAll(/(?:--(?:serve-)?port |127\.0\.0\.1:)(\d+)/g))
              await listening(Number(m[1]));
          }
          if (block.cwd) await run(`cd ${block.cwd}`);
          for (const c of block.commands) {
            const command = mapPorts(c.command);
            const expected = c.expected.map(mapPorts);
            if (/&\s*$/.test(command)) serverStarted = true;
            // a command that prints absolute paths names the clone's folder: shown as the doc's relative path
            const read = async () => (await run(command)).split(`${copy}/`).join('');
            let actual = await read();
            // a server started in the background takes a moment: what talks to it is retried
            const end = Date.now() + RETRY_MS;
            // (only what reads: a retried write would fail on what the first try wrote)
            const reads = /^(curl |(npx )?ferry deploy ls\b)/.test(command);
            while (serverStarted && reads && !outputMatches(expected, actual) && Date.now() < end) {
              await new Promise((r) => setTimeout(r, 500));
              actual = await read();
            }
            expect(actual, `${doc}:${c.line}: $ ${command}`).toSatisfy((a: string) =>
              outputMatches(expected, a),
            );
          }
          if (block.cwd) await run(`cd '${copy}'`);
        }
      } finally {
        // the doc's servers (`ferry serve ... &`, background markers) stop with it
        shell.stdin!.write('kill $(jobs -p) 2>/dev/null; wait; exit\n');
        await new Promise((r) => (shell.exitCode !== null ? r(undefined) : shell.once('exit', r)));
        // and are gone before the next document starts: it may listen on the same ports
        await Promise.all(
          background
            .filter((child) => child.exitCode === null && child.signalCode === null)
            .map(
              (child) =>
                new Promise<void>((resolve) => {
                  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
                  child.once('exit', () => {
                    clearTimeout(timer);
                    resolve();
                  });
                  child.kill('SIGTERM');
                }),
            ),
        );
      }
    }, 600_000);

  it('leaves git status clean: everything the commands wrote is git-ignored', () => {
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], {
      cwd: copy,
      encoding: 'utf8',
    });
    expect(status).toBe('');
  });
});
