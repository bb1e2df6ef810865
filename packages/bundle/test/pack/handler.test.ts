import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unpackBundle } from '../../src/unpack/unpack.js';
import { checkHandlerExports, compileHandler, exportedNames } from '../../src/pack/handler.js';
import { packBundle } from '../../src/pack/pack.js';
import { copyFixtureProject } from '../test-project.helper.js';

const cleanup: string[] = [];
afterAll(async () => {
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

describe('handler checks', () => {
  it('reads export names from the syntax tree, JS or TS', () => {
    const names = exportedNames(
      [
        'export function preprocess(r) {}',
        'export async function helper() {}',
        'export const postprocess = (o) => o, other = 1;',
        'const a = 1; export { a as renamed, a };',
        'export default function () {}',
        'function preprocessNot() {}',
        "const s = 'export function fake() {}';",
      ].join('\n'),
      'h.js',
    );
    expect([...names].sort()).toEqual([
      'a',
      'default',
      'helper',
      'other',
      'postprocess',
      'preprocess',
      'renamed',
    ]);
    expect([
      ...exportedNames(
        'export type T = number; export interface I {}\nexport function preprocess(x: T): I { return x as never; }',
        'h.ts',
      ),
    ]).toContain('preprocess');
  });

  it('refuses a handler that exports neither function', () => {
    expect(() =>
      checkHandlerExports('export function prepare() {}\nfunction preprocess() {}', 'h.js'),
    ).toThrow(/h\.js: handler exports neither preprocess nor postprocess \(it exports: prepare\)/);
    expect(() => checkHandlerExports("export * from './impl.js';", 'h.js')).not.toThrow();
  });

  it('compiles TypeScript to an ES module, and names the line of a syntax error', () => {
    const js = compileHandler(
      'export function preprocess(r: { text: string }): number[] { return [r.text.length]; }',
      'h.ts',
    );
    expect(js).toMatch(/export function preprocess\(r\) \{ return \[r\.text\.length\]; \}/);
    expect(() => compileHandler('export function preprocess( {\n', 'h.ts')).toThrow(
      /h\.ts:\d+:\d+: handler does not compile: /,
    );
  });
});

describe('pack with a TypeScript handler', () => {
  it('packs the source and its compiled module, and the compiled module runs after unpack', async () => {
    const dir = await copyFixtureProject();
    cleanup.push(dir);
    const js = await readFile(join(dir, 'handler.mjs'), 'utf8');
    const ts = js
      .replace('export function tokenize(text) {', 'export function tokenize(text: string): number[] {')
      .replace(
        'export function preprocess(request) {',
        'export function preprocess(request: { text?: string | string[] }) {',
      )
      .replace(
        'export function postprocess(outputs) {',
        'export function postprocess(outputs: { logits: { shape: number[]; data: ArrayLike<number> } }) {',
      )
      .replace('const rows = [];', 'const rows: { label: string; scores: number[] }[] = [];')
      .replace('.map((word, id) => [word, id]),', '.map((word, id) => [word, id] as const),');
    await writeFile(join(dir, 'handler.ts'), ts);
    await rm(join(dir, 'handler.mjs'));
    const yaml = await readFile(join(dir, 'ferry.yaml'), 'utf8');
    await writeFile(join(dir, 'ferry.yaml'), yaml.replace('module: handler.mjs', 'module: handler.ts'));
    const out = await mkdtemp(join(tmpdir(), 'ferry-ts-'));
    cleanup.push(out);
    const result = await packBundle(dir, { output: join(out, 'ts.ferry') });
    expect(result.manifest.handler).toEqual({ module: 'handler.ts', entry: 'handler.mjs' });
    expect(
      result.manifest.files.filter((f) => f.path.startsWith('handler')).map((f) => [f.path, f.role]),
    ).toEqual([
      ['handler.mjs', 'generated'],
      ['handler.ts', 'handler'],
    ]);
    const again = await packBundle(dir, { output: join(out, 'ts2.ferry') });
    expect(await readFile(again.path)).toEqual(await readFile(result.path));
    await unpackBundle(result.path, join(out, 'unpacked'));
    const handler = await import(join(out, 'unpacked', 'handler.mjs'));
    const expected = JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8'));
    expect(
      handler.preprocess({ text: expected.samples.map((s: { text: string }) => s.text) }).input_ids.data,
    ).toEqual(expected.samples.flatMap((s: { input_ids: number[] }) => s.input_ids));
    const logits = expected.samples.flatMap((s: { logits: number[] }) => s.logits);
    expect(
      handler
        .postprocess({ logits: { shape: [expected.samples.length, 2], data: logits } })
        .predictions.map((p: { label: string }) => p.label),
    ).toEqual(expected.samples.map((s: { label: string }) => s.label));
  });

  it('refuses a handler without preprocess or postprocess before writing anything', async () => {
    const dir = await copyFixtureProject();
    cleanup.push(dir);
    await writeFile(join(dir, 'handler.mjs'), 'export function handle() {}\n');
    await expect(packBundle(dir, { output: join(dir, 'x.ferry') })).rejects.toMatchObject({
      code: 'FERRY_BUNDLE_HANDLER',
    });
  });
});
