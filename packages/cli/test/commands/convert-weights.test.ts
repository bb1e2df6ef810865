import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.helper.js';

const fixture = (path: string) => new URL(`../../../../fixtures/${path}`, import.meta.url).pathname;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-convert-weights-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ferry convert MODEL.onnx --weights W -o OUT.onnx', () => {
  it('round-trips: ONNX -> safetensors -> back into the graph gives the same model', async () => {
    const weights = join(dir, 'mlp.safetensors');
    expect((await runCli(['convert', fixture('onnx/mlp.onnx'), '-o', weights])).code).toBe(0);
    const out = join(dir, 'mlp-again.onnx');
    const result = await runCli([
      'convert',
      fixture('onnx/mlp.onnx'),
      '--weights',
      weights,
      '-o',
      out,
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ output: out, format: 'onnx', tensors: 4 });
    const diff = await runCli(['diff', fixture('onnx/mlp.onnx'), out, '--json']);
    expect(diff.code).toBe(0);
    const inspect = JSON.parse((await runCli(['inspect', out, '--json'])).stdout);
    expect(inspect.inputs).toEqual([{ name: 'x', dtype: 'F32', shape: ['batch', 4] }]);
  });

  it('writes external data when asked', async () => {
    const weights = join(dir, 'cnn.safetensors');
    expect((await runCli(['convert', fixture('onnx/cnn.onnx'), '-o', weights])).code).toBe(0);
    const out = join(dir, 'cnn-ext.onnx');
    const result = await runCli([
      'convert',
      fixture('onnx/cnn.onnx'),
      '--weights',
      weights,
      '--external-data',
      '-o',
      out,
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(existsSync(JSON.parse(result.stdout).dataPath)).toBe(true);
    expect((await runCli(['diff', fixture('onnx/cnn.onnx'), out])).code).toBe(0);
  });

  it('refuses weights of another model in one line, exit 2, and writes nothing', async () => {
    const weights = join(dir, 'cnn-weights.safetensors');
    expect((await runCli(['convert', fixture('onnx/cnn.onnx'), '-o', weights])).code).toBe(0);
    const out = join(dir, 'wrong.onnx');
    const result = await runCli(['convert', fixture('onnx/mlp.onnx'), '--weights', weights, '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/FERRY_ONNX_REPLACE_/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('ferry convert MODEL.onnx --fp16', () => {
  it('goes through the convert command and keeps float32 I/O when asked', async () => {
    const out = join(dir, 'mlp16.onnx');
    const result = await runCli([
      'convert',
      fixture('optimize/mlp.onnx'),
      '--fp16',
      '--keep-io-types',
      '-o',
      out,
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const inspect = JSON.parse((await runCli(['inspect', out, '--json'])).stdout);
    expect(inspect.inputs[0].dtype).toBe('F32');
    expect(inspect.tensors.every((t: { dtype: string }) => t.dtype !== 'F32')).toBe(true);
  });
});
