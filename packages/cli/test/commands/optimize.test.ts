import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/io.js';
import { main } from '../../src/main.js';

function captureIO(): CliIO & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => (out += chunk));
  stderr.on('data', (chunk) => (err += chunk));
  return { stdout, stderr, out: () => out, err: () => err };
}

const fixture = (name: string) => new URL(`../../../../fixtures/optimize/${name}`, import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-optimize-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ferry optimize', () => {
  it('prints nodes before/after by op type and the --verify figures', async () => {
    const io = captureIO();
    const out = join(dir, 'transformer.opt.onnx');
    expect(await main(['optimize', fixture('transformer.onnx'), '-o', out, '--verify', '4'], io)).toBe(0);
    expect(io.out()).toMatch(/nodes: 96 -> \d\d/);
    expect(io.out()).toMatch(/LayerNormalization\s+0\s+2/);
    expect(io.out()).toMatch(/verify \(4 random samples.*\n\s+y: max abs error/);
    expect(existsSync(out)).toBe(true);
  });

  it('prints the report as JSON with --json', async () => {
    const io = captureIO();
    const out = join(dir, 'mlp.opt.onnx');
    expect(await main(['optimize', fixture('mlp.onnx'), '-o', out, '--level', 'basic', '--json'], io)).toBe(
      0,
    );
    const report = JSON.parse(io.out());
    expect(report).toMatchObject({ level: 'basic', nodesBefore: 5, output: out });
    expect(report.ops.Gemm[0]).toBe(3);
  });

  it('refuses a corrupt model with one line, exit 2 and no output', async () => {
    const bytes = readFileSync(fixture('mlp.onnx'));
    const corrupt = join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, bytes.subarray(0, 1000));
    const io = captureIO();
    const out = join(dir, 'corrupt.opt.onnx');
    expect(await main(['optimize', corrupt, '-o', out], io)).toBe(2);
    expect(io.err().trim().split('\n')).toHaveLength(1);
    expect(io.err()).toMatch(/^ferry optimize: FERRY_/);
    expect(existsSync(out)).toBe(false);
  });

  it('needs -o and a known level', async () => {
    let io = captureIO();
    expect(await main(['optimize', fixture('mlp.onnx')], io)).toBe(2);
    expect(io.err()).toMatch(/needs -o OUT.onnx/);
    io = captureIO();
    expect(
      await main(['optimize', fixture('mlp.onnx'), '-o', join(dir, 'x.onnx'), '--level', 'max'], io),
    ).toBe(2);
    expect(io.err()).toMatch(/--level must be one of basic, extended, all/);
    io = captureIO();
    expect(
      await main(['optimize', fixture('mlp.onnx'), '-o', join(dir, 'x.onnx'), '--verify', '0'], io),
    ).toBe(2);
    expect(io.err()).toMatch(/--verify must be an integer 1-10000 \(got 0\)/);
  });
});
