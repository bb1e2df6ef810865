import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { encodeSamples } from '@ferry/optimize';
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
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-quantize-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ferry quantize', () => {
  it('quantizes, lists the nodes and verifies', async () => {
    const io = captureIO();
    const out = join(dir, 'cnn.int8.onnx');
    const code = await main(
      ['quantize', fixture('cnn.onnx'), '-o', out, '--ops', 'Conv,Gemm', '--per-channel', '--verify', '8'],
      io,
    );
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    expect(io.out()).toMatch(/dynamic int8, qoperator form/);
    expect(io.out()).toMatch(/Conv \/conv2\/Conv: weight conv2.weight \(4608 elements, per channel\)/);
    expect(io.out()).toMatch(/Conv \/conv1\/Conv: weight conv1.weight has 432 elements, fewer than 1024/);
    expect(io.out()).toMatch(/top-1 agreement \d+\.\d% \(\d\/8\)/);
    expect(existsSync(out)).toBe(true);
  });

  it('prints JSON with --json, QDQ form', async () => {
    const io = captureIO();
    const out = join(dir, 'mlp.qdq.onnx');
    expect(await main(['quantize', fixture('mlp.onnx'), '-o', out, '--format', 'qdq', '--json'], io)).toBe(0);
    const report = JSON.parse(io.out());
    expect(report).toMatchObject({ mode: 'dynamic', format: 'qdq' });
    expect(report.quantized.map((q: { op: string }) => q.op)).toEqual(['Gemm', 'Gemm', 'Gemm']);
  });

  it.each([
    [
      'opset 9',
      () => fixture('mlp_opset9.onnx'),
      /^ferry quantize: FERRY_QUANTIZE_OPSET: .*needs ai.onnx opset 10 or later, the model imports 9\n$/,
    ],
    [
      'corrupt',
      () => {
        const p = join(dir, 'corrupt.onnx');
        writeFileSync(p, readFileSync(fixture('mlp.onnx')).subarray(0, 2000));
        return p;
      },
      /^ferry quantize: FERRY_\w+: .*corrupt.onnx.*\n$/,
    ],
  ])('refuses a bad model (%s): one line, exit 2, no output', async (_what, model, message) => {
    const io = captureIO();
    const out = join(dir, `refused-${_what}.onnx`);
    expect(await main(['quantize', model(), '-o', out], io)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an already quantized model: one line, exit 2, no output', async () => {
    const once = join(dir, 'once.onnx');
    expect(await main(['quantize', fixture('mlp.onnx'), '-o', once], captureIO())).toBe(0);
    const io = captureIO();
    const twice = join(dir, 'twice.onnx');
    expect(await main(['quantize', once, '-o', twice], io)).toBe(2);
    expect(io.err()).toMatch(
      /^ferry quantize: FERRY_QUANTIZE_ALREADY: .*model is already quantized: node \S+ is DynamicQuantizeLinear\n$/,
    );
    expect(existsSync(twice)).toBe(false);
  });

  it('static quantization with --calibrate, verified on given --inputs', async () => {
    // 16 calibration samples for the transformer layer: [16, 12, 64] standard-normal-ish values.
    const values = Float32Array.from({ length: 16 * 12 * 64 }, (_, i) => Math.sin(i * 12.9898) * 2);
    const data = join(dir, 'calibration.safetensors');
    writeFileSync(
      data,
      encodeSamples([{ name: 'x', dtype: 'F32', shape: [16, 12, 64], bytes: new Uint8Array(values.buffer) }]),
    );
    const io = captureIO();
    const out = join(dir, 'transformer.static.onnx');
    const code = await main(
      [
        'quantize',
        fixture('transformer.onnx'),
        '-o',
        out,
        '--calibrate',
        data,
        '--method',
        'percentile',
        '--inputs',
        data,
      ],
      io,
    );
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    expect(io.out()).toMatch(/static int8, qdq form/);
    expect(io.out()).toMatch(/calibration: percentile over 16 samples, 4 activations/);
    expect(io.out()).toMatch(/verify \(16 given samples/);
  });

  it('checks its options', async () => {
    const run = async (...extra: string[]) => {
      const io = captureIO();
      expect(await main(['quantize', fixture('mlp.onnx'), '-o', join(dir, 'x.onnx'), ...extra], io)).toBe(2);
      return io.err();
    };
    expect(await run('--ops', 'Softmax')).toMatch(/--ops: Softmax is not one of MatMul, Gemm, Conv, Gather/);
    expect(await run('--format', 'int4')).toMatch(/--format must be qoperator or qdq/);
    expect(await run('--calibrate', 'x.safetensors', '--format', 'qoperator')).toMatch(
      /--calibrate writes the QDQ form/,
    );
    expect(await run('--method', 'entropy')).toMatch(/--method must be minmax or percentile/);
    expect(existsSync(join(dir, 'x.onnx'))).toBe(false);
  });
});
