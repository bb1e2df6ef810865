import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx, onnxOpHistogram } from '@ferry/formats';
import { describe, expect, it } from 'vitest';
import { OptimizeError } from '../src/errors.js';
import { quantizeFile } from '../src/index.js';
import {
  EXPECTED,
  errors,
  fixture,
  readBytes,
  runOnStored,
  tempDir,
  writeInputsFile,
} from './optimize-fixtures.helper.js';

/**
 * Error bounds against torch's outputs on the fixtures' stored inputs: max |error| / max |output|.
 * Int8 weights and uint8 activations keep ~2-3 significant digits; measured values sit at a
 * third to a half of these bounds.
 */
const MAX_REL_ERROR = {
  'mlp.onnx': 0.02,
  'cnn.onnx': 0.05,
  'transformer.onnx': 0.02,
  'embedding.onnx': 0.02,
} as const;

const CASES = [
  { model: 'mlp.onnx', op: 'Gemm', integer: 'MatMulInteger' },
  { model: 'cnn.onnx', op: 'Conv', integer: 'ConvInteger' },
  { model: 'transformer.onnx', op: 'MatMul', integer: 'MatMulInteger' },
  { model: 'embedding.onnx', op: 'Gather', integer: 'Gather' },
] as const;

describe('quantizeFile (dynamic)', () => {
  const dir = tempDir();

  for (const { model, op, integer } of CASES)
    for (const format of ['qoperator', 'qdq'] as const)
      it(`${op} in ${model}, ${format} form: runs in onnxruntime within ${MAX_REL_ERROR[model]} of torch`, async () => {
        const out = join(dir, `${model}.${op}.${format}.onnx`);
        const report = await quantizeFile(fixture(model), out, { ops: [op], format, minWeightElements: 0 });
        expect(report.quantized.length).toBeGreaterThan(0);
        expect(report.quantized.every((q) => q.op === op)).toBe(true);
        const hist = onnxOpHistogram(onnx.decodeModel(readBytes(out)).graph!);
        if (format === 'qoperator') {
          expect(hist[integer]).toBeGreaterThan(0);
          if (op !== 'Gather') expect(hist.DynamicQuantizeLinear).toBeGreaterThan(0);
          // Only nodes left in float (activation x activation MatMuls in attention) keep the op.
          if (op !== 'Gather') expect(hist[op] ?? 0).toBe(report.skipped.filter((s) => s.op === op).length);
        } else {
          expect(hist.DequantizeLinear).toBeGreaterThan(0);
          expect(hist[op]).toBeGreaterThan(0);
        }
        const expected = EXPECTED[model]!;
        const y = (await runOnStored(out, model)).y!;
        const classes = expected.classifier ? expected.outputs.y!.shape[1] : undefined;
        const e = errors(expected.outputs.y!.data, y, classes);
        expect(e.maxRel).toBeLessThan(MAX_REL_ERROR[model]);
        if (model === 'mlp.onnx') expect(e.top1).toBe(1);
      });

  it('shrinks the transformer layer to under 0.35x with int8 weights', async () => {
    const out = join(dir, 'transformer.default.onnx');
    const report = await quantizeFile(fixture('transformer.onnx'), out);
    expect(report.quantized.map((q) => q.op)).toEqual(Array(6).fill('MatMul'));
    expect(report.bytesAfter / report.bytesBefore).toBeLessThan(0.35);
  });

  it('per-channel beats per-tensor on the CNN (channels with different ranges)', async () => {
    const expected = EXPECTED['cnn.onnx']!.outputs.y!.data;
    const run = async (perChannel: boolean) => {
      const out = join(dir, `cnn.pc.${perChannel}.onnx`);
      await quantizeFile(fixture('cnn.onnx'), out, { ops: ['Conv'], perChannel, minWeightElements: 0 });
      return errors(expected, (await runOnStored(out, 'cnn.onnx')).y!).maxAbs;
    };
    const perTensor = await run(false);
    const perChannel = await run(true);
    expect(perChannel).toBeLessThan(perTensor * 0.85);
  });

  // Output channels whose ranges differ up to 16x, as a trained layer's do (torch's random
  // initial weights give every channel the same range, where per-channel changes nothing).
  it.each([
    ['Gemm with transB (weights [N, K], as torch exports nn.Linear)', 'Gemm', 'transB'],
    ['Gemm without transB (weights [K, N])', 'Gemm', 'plain'],
    ['MatMul + Add (weights [K, N])', 'MatMul', 'matmul'],
  ] as const)(
    'per-channel %s in QOperator form: matches the QDQ form and beats per tensor',
    async (_what, op, layout) => {
      const source = join(dir, `mlp.channels.${layout}.onnx`);
      writeFileSync(source, onnx.encodeModel(mlpWithChannelRanges(layout)));
      const reference = (await runOnStored(source, 'mlp.onnx')).y!;
      const run = async (format: 'qoperator' | 'qdq', perChannel: boolean) => {
        const out = join(dir, `mlp.channels.${layout}.${format}.${perChannel}.onnx`);
        const report = await quantizeFile(source, out, {
          ops: [op],
          format,
          perChannel,
          minWeightElements: 0,
        });
        expect(report.quantized.map((q) => [q.op, q.perChannel])).toEqual(Array(3).fill([op, perChannel]));
        const y = (await runOnStored(out, 'mlp.onnx')).y!;
        let sum = 0;
        for (let i = 0; i < y.length; i++) sum += Math.abs(y[i]! - reference[i]!);
        return { y, maxRel: errors([...reference], y).maxRel, meanAbs: sum / y.length };
      };
      const qoperator = await run('qoperator', true);
      const qdq = await run('qdq', true);
      const perTensor = await run('qoperator', false);
      // Integer accumulation then one scale multiply (QOperator) vs DequantizeLinear along `axis`
      // then float math (QDQ): the same numbers up to float32 rounding.
      expect(errors([...qdq.y], qoperator.y).maxRel).toBeLessThan(1e-5);
      // Measured: max rel 0.0056 vs 0.0090, mean abs error 0.41 vs 0.87.
      expect(qoperator.maxRel).toBeLessThan(0.02);
      expect(qoperator.meanAbs).toBeLessThan(perTensor.meanAbs * 0.7);
    },
  );

  it('--reduce-range keeps weights within [-64, 64]', async () => {
    const out = join(dir, 'mlp.rr.onnx');
    await quantizeFile(fixture('mlp.onnx'), out, { reduceRange: true });
    const model = onnx.decodeModel(readBytes(out));
    const q = model.graph!.initializer!.filter((t) => t.data_type === 3 && (t.dims?.length ?? 0) === 2);
    expect(q.length).toBeGreaterThan(0);
    for (const t of q) {
      const values = new Int8Array(t.raw_data!.buffer, t.raw_data!.byteOffset, t.raw_data!.byteLength);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(-64);
      expect(Math.max(...values)).toBeLessThanOrEqual(64);
    }
    expect(
      errors(EXPECTED['mlp.onnx']!.outputs.y!.data, (await runOnStored(out, 'mlp.onnx')).y!).maxRel,
    ).toBeLessThan(0.05);
  });

  it('reports verification figures and skips small weights by default', async () => {
    const out = join(dir, 'cnn.verify.onnx');
    const report = await quantizeFile(fixture('cnn.onnx'), out, {
      ops: ['Conv', 'Gemm'],
      verify: { samples: 16 },
    });
    expect(report.skipped).toContainEqual(
      expect.objectContaining({ op: 'Conv', reason: expect.stringMatching(/432 elements, fewer than 1024/) }),
    );
    const v = report.verify!.outputs[0]!;
    expect(v.rows).toBe(16);
    expect(v.top1Agreement).toBeGreaterThanOrEqual(0.9);
    expect(v.maxRelError).toBeLessThan(0.05);
  });

  it.each([
    ['an opset 9 model', 'mlp_opset9.onnx', 'FERRY_QUANTIZE_OPSET'],
    ['a missing file', 'nonexistent.onnx', 'FERRY_NOT_FOUND'],
  ])('refuses %s with %s and writes nothing', async (_what, name, code) => {
    const out = join(dir, `refused.${name}`);
    await expect(quantizeFile(fixture(name), out)).rejects.toMatchObject({ code });
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an already quantized model', async () => {
    const once = join(dir, 'once.onnx');
    await quantizeFile(fixture('mlp.onnx'), once);
    const twice = join(dir, 'twice.onnx');
    const error = await quantizeFile(once, twice).catch((e) => e);
    expect(error).toBeInstanceOf(OptimizeError);
    expect(error.code).toBe('FERRY_QUANTIZE_ALREADY');
    expect(existsSync(twice)).toBe(false);
  });
});

describe('quantizeFile (static, calibrated)', () => {
  const dir = tempDir();

  it.each(['minmax', 'percentile'] as const)(
    '%s calibration writes fixed-scale QDQ that tracks torch',
    async (method) => {
      const data = writeInputsFile(dir, 'transformer.onnx');
      const out = join(dir, `transformer.static.${method}.onnx`);
      const report = await quantizeFile(fixture('transformer.onnx'), out, { calibrate: data, method });
      expect(report.mode).toBe('static');
      expect(report.calibration).toMatchObject({ method, samples: 4, activations: 4 });
      const hist = onnxOpHistogram(onnx.decodeModel(readBytes(out)).graph!);
      expect(hist.QuantizeLinear).toBe(4);
      expect(hist.DynamicQuantizeLinear).toBeUndefined();
      const y = (await runOnStored(out, 'transformer.onnx')).y!;
      expect(errors(EXPECTED['transformer.onnx']!.outputs.y!.data, y).maxRel).toBeLessThan(0.03);
    },
  );

  it('calibrates on a .npz numpy wrote and verifies on a .npy', async () => {
    const out = join(dir, 'mlp.static.npz.onnx');
    const report = await quantizeFile(fixture('mlp.onnx'), out, {
      calibrate: fixture('transformer_samples.npz'),
      verify: { samples: 0, inputs: fixture('mlp_samples.npy') },
    }).catch((e) => e);
    // The transformer's samples do not fit the MLP: refused, naming the input and the rule.
    expect(report).toMatchObject({
      code: 'FERRY_OPTIMIZE_DATA',
      message: expect.stringMatching(/input x: rank 3, the model's input has rank 2/),
    });
    const t = join(dir, 'transformer.static.npz.onnx');
    const ok = await quantizeFile(fixture('transformer.onnx'), t, {
      calibrate: fixture('transformer_samples.npz'),
    });
    expect(ok.calibration).toMatchObject({ samples: 4 });
    const y = (await runOnStored(t, 'transformer.onnx')).y!;
    expect(errors(EXPECTED['transformer.onnx']!.outputs.y!.data, y).maxRel).toBeLessThan(0.03);
    const m = join(dir, 'mlp.verified.onnx');
    const verified = await quantizeFile(fixture('mlp.onnx'), m, {
      verify: { samples: 0, inputs: fixture('mlp_samples.npy') },
    });
    expect(verified.verify).toMatchObject({ samples: 16, source: 'given' });
    expect(verified.verify!.outputs[0]!.top1Agreement).toBe(1);
  });

  it('static per-channel Conv on the CNN, calibrated on its stored images', async () => {
    const data = writeInputsFile(dir, 'cnn.onnx');
    const out = join(dir, 'cnn.static.onnx');
    const report = await quantizeFile(fixture('cnn.onnx'), out, {
      calibrate: data,
      ops: ['Conv', 'Gemm'],
      perChannel: true,
      minWeightElements: 0,
    });
    expect(report.quantized.map((q) => [q.op, q.perChannel])).toEqual([
      ['Conv', true],
      ['Conv', true],
      ['Gemm', true],
    ]);
    const expected = EXPECTED['cnn.onnx']!.outputs.y!;
    const e = errors(expected.data, (await runOnStored(out, 'cnn.onnx')).y!, expected.shape[1]);
    expect(e.maxRel).toBeLessThan(0.05);
  });

  it('refuses calibration data that does not fit the model', async () => {
    const data = writeInputsFile(dir, 'embedding.onnx');
    const out = join(dir, 'mismatch.onnx');
    await expect(quantizeFile(fixture('transformer.onnx'), out, { calibrate: data })).rejects.toMatchObject({
      code: 'FERRY_OPTIMIZE_DATA',
      message: expect.stringMatching(/input x: rank 2, the model's input has rank 3/),
    });
    expect(existsSync(out)).toBe(false);
  });
});

/**
 * The MLP fixture with each layer's output channels scaled by 1/4 .. 4 (cycling), so channels'
 * ranges differ as in trained layers, its weights laid out three ways: as torch exports
 * nn.Linear (Gemm, transB = 1, [N, K]), Gemm without transB ([K, N]), or MatMul ([K, N]) + Add.
 */
function mlpWithChannelRanges(layout: 'transB' | 'plain' | 'matmul'): onnx.OnnxModel {
  const model = onnx.decodeModel(readBytes(fixture('mlp.onnx')));
  const graph = model.graph!;
  const gemms = (graph.node ?? []).filter((n) => n.op_type === 'Gemm');
  const weights = new Set(gemms.map((n) => n.input![1]!));
  const initializer = (graph.initializer ?? []).map((t) => {
    if (!weights.has(t.name ?? '')) return t;
    const [n, k] = t.dims!.map(Number) as [number, number];
    const view = new DataView(t.raw_data!.buffer, t.raw_data!.byteOffset, t.raw_data!.byteLength);
    const out = new DataView(new ArrayBuffer(n * k * 4));
    for (let r = 0; r < n; r++)
      for (let c = 0; c < k; c++) {
        const v = view.getFloat32((r * k + c) * 4, true) * 2 ** ((r % 5) - 2);
        out.setFloat32((layout === 'transB' ? r * k + c : c * n + r) * 4, v, true);
      }
    const dims = layout === 'transB' ? [n, k] : [k, n];
    return { ...t, dims: dims.map(BigInt), raw_data: new Uint8Array(out.buffer) };
  });
  const node = (graph.node ?? []).flatMap((g): onnx.OnnxNode[] => {
    if (g.op_type !== 'Gemm' || layout === 'transB') return [g];
    if (layout === 'plain')
      return [{ ...g, attribute: (g.attribute ?? []).filter((a) => a.name !== 'transB') }];
    const product = `${g.output![0]}_product`;
    return [
      { ...g, op_type: 'MatMul', input: g.input!.slice(0, 2), output: [product], attribute: [] },
      { name: `${g.name}_bias`, op_type: 'Add', input: [product, g.input![2]!], output: g.output! },
    ];
  });
  return { ...model, graph: { ...graph, node, initializer } };
}
