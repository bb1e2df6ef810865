import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FerryError, onnx, onnxOpHistogram as opHistogram } from '@ferry/formats';
import { OptimizeError } from '../../src/errors.js';
import { convertToFloat16 } from '../../src/fp16/convert.js';
import type { OnnxModel } from '../../src/onnx-schema.js';
import { defaultOpset, floatValues, setDefaultOpset } from '../../src/quantize/graph-data.js';
import { activationsToCalibrate } from '../../src/quantize/candidates.js';
import { quantizeModel } from '../../src/quantize/quantize-model.js';

const FIXTURES = new URL('../../../../fixtures/optimize/', import.meta.url).pathname;
const bytesOf = (name: string) => new Uint8Array(readFileSync(`${FIXTURES}${name}`));
const load = (name: string): OnnxModel => onnx.decodeModel(bytesOf(name), name);

describe('quantizeModel (pure transform)', () => {
  it('QOperator MatMul: one DynamicQuantizeLinear per shared activation, MatMulInteger + Cast + Mul', () => {
    const result = quantizeModel(load('transformer.onnx'));
    const hist = opHistogram(result.model.graph!);
    expect(result.quantized).toHaveLength(6);
    // q, k and v read the same x: it is quantized once.
    expect(hist.DynamicQuantizeLinear).toBe(4);
    expect(hist.MatMulInteger).toBe(6);
    expect(onnx.checkModel(result.model)).toEqual([]);
    const int8 = result.model.graph!.initializer!.filter(
      (t) => t.data_type === 3 && t.name?.endsWith('_quantized'),
    );
    expect(int8.map((t) => t.dims?.map(Number))).toEqual([
      [64, 64],
      [64, 64],
      [64, 64],
      [64, 64],
      [64, 256],
      [256, 64],
    ]);
  });

  it.each([
    ['Gemm with transB (weight [N, K], stored transposed to [K, N])', 'mlp.onnx', 'fc2.weight', true],
    ['MatMul (weight [K, N])', 'transformer.onnx', 'onnx::MatMul_128', false],
  ] as const)(
    'QOperator per-channel %s: one scale per output column, max |w| / 127',
    (_what, file, name, transB) => {
      const model = load(file);
      const result = quantizeModel(model, { perChannel: true });
      expect(result.quantized.find((q) => q.weight === name)?.perChannel).toBe(true);
      const init = (n: string) => result.model.graph!.initializer!.find((t) => t.name === n)!;
      const original = model.graph!.initializer!.find((t) => t.name === name)!;
      const [rows, cols] = original.dims!.map(Number) as [number, number];
      const w = floatValues(file, original);
      // As MatMulInteger reads it: [K, N], channel n = output column.
      const [K, N] = transB ? [cols, rows] : [rows, cols];
      const at = (k: number, n: number) => (transB ? w[n * cols + k]! : w[k * cols + n]!);
      const q = init(`${name}_quantized`);
      expect(q.dims!.map(Number)).toEqual([K, N]);
      const scale = floatValues(file, init(`${name}_scale`));
      expect(init(`${name}_scale`).dims!.map(Number)).toEqual([N]);
      const values = new Int8Array(q.raw_data!.buffer, q.raw_data!.byteOffset, K * N);
      let distinct = 0;
      for (let n = 0; n < N; n++) {
        let max = 0;
        for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(at(k, n)));
        expect(scale[n]).toBe(Math.fround(max / 127));
        if (scale[n] !== scale[0]) distinct++;
        // Every value dequantizes to within half a step of its channel's scale.
        for (let k = 0; k < K; k++)
          expect(Math.abs(values[k * N + n]! * scale[n]! - at(k, n))).toBeLessThanOrEqual(scale[n]! * 0.5001);
      }
      expect(distinct).toBeGreaterThan(0);
      // Symmetric weights: MatMulInteger's b_zero_point is one int8 0 for every column, and the
      // [N] scale reaches the output through the broadcast Mul by the activation's scale.
      const consumer = result.model.graph!.node!.find(
        (n) => n.op_type === 'MatMulInteger' && n.input![1] === `${name}_quantized`,
      )!;
      const zero = init(consumer.input![3]!);
      expect([zero.data_type, zero.dims ?? [], [...zero.raw_data!]]).toEqual([3, [], [0]]);
      const mul = result.model.graph!.node!.find(
        (n) => n.op_type === 'Mul' && n.input![1] === `${name}_scale`,
      );
      expect(mul?.input?.[0]).toMatch(/_scale$/);
    },
  );

  it('drops the float weights it replaced and keeps the input model unchanged', () => {
    const model = load('mlp.onnx');
    const before = model.graph!.initializer!.map((t) => t.name);
    const result = quantizeModel(model, { minWeightElements: 0 });
    expect(model.graph!.initializer!.map((t) => t.name)).toEqual(before);
    const after = result.model.graph!.initializer!;
    for (const w of ['fc1.weight', 'fc2.weight', 'fc3.weight']) {
      expect(after.find((t) => t.name === w)).toBeUndefined();
      expect(after.find((t) => t.name === `${w}_quantized`)?.data_type).toBe(3);
    }
  });

  it('skips weights under the size floor, with the reason', () => {
    const result = quantizeModel(load('cnn.onnx'), { ops: ['Conv'] });
    expect(result.quantized.map((q) => q.weight)).toEqual(['conv2.weight']);
    expect(result.skipped).toEqual([
      { node: '/conv1/Conv', op: 'Conv', reason: 'weight conv1.weight has 432 elements, fewer than 1024' },
    ]);
  });

  it('raises opset 10 to 11 (DynamicQuantizeLinear), as onnxruntime does', () => {
    const model = load('mlp.onnx');
    setDefaultOpset(model, 10);
    const result = quantizeModel(model);
    expect(result.opsetRaised).toEqual({ from: 10, to: 11 });
    expect(defaultOpset(result.model)).toBe(11);
  });

  it('refuses opset < 10 and already quantized models', () => {
    expect(() => quantizeModel(load('mlp_opset9.onnx'), { path: 'm.onnx' })).toThrow(
      'm.onnx: int8 quantization needs ai.onnx opset 10 or later, the model imports 9',
    );
    const once = quantizeModel(load('mlp.onnx')).model;
    expect(() => quantizeModel(once, { path: 'q.onnx' })).toThrow(
      /q.onnx: model is already quantized: node \S+ is DynamicQuantizeLinear/,
    );
  });

  it('static quantization needs the QDQ form and a range for every activation', () => {
    const model = load('mlp.onnx');
    expect(() => quantizeModel(model, { activationRanges: new Map() })).toThrow(/QDQ form/);
    expect(activationsToCalibrate(model)).toEqual(['x', '/Relu_output_0', '/Relu_1_output_0']);
    expect(() =>
      quantizeModel(model, { format: 'qdq', activationRanges: new Map([['x', { min: -1, max: 1 }]]) }),
    ).toThrow(/activation \/Relu_output_0: no calibrated range/);
  });
});

describe('transform fuzz: mutated models give a model or a FerryError, nothing else', () => {
  const seeds = ['mlp.onnx', 'cnn.onnx', 'transformer.onnx', 'embedding.onnx', 'topk.onnx'].map(bytesOf);
  const seed = fc.integer({ min: 0, max: seeds.length - 1 }).map((i) => seeds[i]!);
  const mutation = fc.oneof(
    fc
      .tuple(
        seed,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 }),
      )
      .map(([s, flips]) => {
        const out = new Uint8Array(s);
        for (const [at, bit] of flips) out[at % out.length]! ^= 1 << bit;
        return out;
      }),
    fc.tuple(seed, fc.nat()).map(([s, n]) => s.subarray(0, n % s.length)),
  );
  it('quantizeModel and convertToFloat16', () => {
    const outcomes = { ok: 0, refused: 0 };
    fc.assert(
      fc.property(mutation, fc.boolean(), (bytes, perChannel) => {
        for (const transform of [
          (m: OnnxModel) =>
            quantizeModel(m, { ops: ['MatMul', 'Gemm', 'Conv', 'Gather'], perChannel, minWeightElements: 0 }),
          (m: OnnxModel) => quantizeModel(m, { format: 'qdq', perChannel }),
          (m: OnnxModel) => convertToFloat16(m, { keepIoTypes: perChannel }),
        ]) {
          try {
            transform(onnx.decodeModel(bytes, 'fuzz.onnx'));
            outcomes.ok++;
          } catch (error) {
            if (!(error instanceof FerryError || error instanceof OptimizeError)) throw error;
            outcomes.refused++;
          }
        }
      }),
      { numRuns: 200 },
    );
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});
