import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Issue #23: the CLI's start loads only what the command uses. Each case runs the built CLI
 * (`npx tsc -b packages/cli`) in a fresh node process, then lists the CommonJS module cache
 * (every package below is CommonJS, or loads its native addon through require, so each one that
 * loaded is there, whether reached by import or by require) and reports which heavy packages are
 * in it. Not timed: bench/suites/cli.ts measures the time.
 */
const DIST = new URL('../dist/', import.meta.url);
const FIXTURES = new URL('../../../fixtures/', import.meta.url);

/** Package folders (and the libtorch addon) that only serving, compiling or optimizing may load. */
const HEAVY = [
  'node_modules/fastify/',
  'node_modules/@grpc/grpc-js/',
  'node_modules/onnxruntime-node/',
  'node_modules/better-sqlite3/',
  'node_modules/pg/',
  'node_modules/typescript/',
  'ferry_torchscript.node',
];

/** Runs `ferry ARGV` in a child (its output dropped) and returns the heavy modules it loaded. */
function heavyLoadedBy(argv: readonly string[], alsoImport?: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    import { Writable } from 'node:stream';
    const sink = () => new Writable({ write: (_c, _e, done) => done() });
    const { COMMANDS } = await import(${JSON.stringify(new URL('commands/index.js', DIST).href)});
    if (COMMANDS.length < 20) throw new Error('the command table did not load');
    const { main } = await import(${JSON.stringify(new URL('main.js', DIST).href)});
    await main(${JSON.stringify(argv)}, { stdout: sink(), stderr: sink() });
    ${alsoImport ? `await import(${JSON.stringify(alsoImport)});` : ''}
    const heavy = ${JSON.stringify(HEAVY)};
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    process.stdout.write(JSON.stringify(heavy.filter((h) => loaded.some((path) => path.includes(h)))));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}

describe('the CLI loads only what a command uses (issue #23)', () => {
  it('the check sees a heavy package that did load', () => {
    expect(heavyLoadedBy(['--version'], 'fastify')).toEqual(['node_modules/fastify/']);
  });

  it.each([
    ['--help'],
    ['--version'],
    ['version'],
    ['inspect', '--help'],
    ['serve', '--help'],
    ['registry', '--help'],
    ['up', '--help'],
    ['deploy', '--help'],
    ['pack', '--help'],
    ['push', '--help'],
    ['pull', '--help'],
  ])(
    'ferry %s loads none of fastify, grpc-js, onnxruntime-node, better-sqlite3, pg, typescript, libtorch',
    (...argv) => {
      expect(heavyLoadedBy(argv)).toEqual([]);
    },
  );

  it('inspect, scan and convert of small files load none of them either', () => {
    const file = (path: string) => fileURLToPath(new URL(path, FIXTURES));
    expect(heavyLoadedBy(['inspect', file('safetensors/all_dtypes.safetensors')])).toEqual([]);
    expect(heavyLoadedBy(['scan', file('pickle/corpus/pip_main.pkl')])).toEqual([]);
    expect(heavyLoadedBy(['convert', file('pickle/torch/dtypes.pt'), '-o', '/dev/null'])).toEqual([]);
  });
});
