import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FerryError, onnx, protobuf } from '@ferry/formats';
import { OptimizeError } from '../src/errors.js';
import * as fp16 from '../src/fp16/convert.js';
import { quantize } from '../src/index.js';
import { describe, expect, it } from 'vitest';
import { ort, tensorValues } from '../src/index.js';

/**
 * onnx's backend test models exported from torch modules (Debian's libonnx-testdata): Conv 1-D to
 * 3-D with groups, dilation, strides and depthwise, Linear, Embedding, BatchNorm, pooling,
 * activations, each with an input and the output torch computed.
 */
const ROOT = '/usr/share/libonnx-testdata/data/pytorch-converted';
const NODE_ROOT = '/usr/share/libonnx-testdata/data/node';
/**
 * onnx's operator tests for the ops quantization rewrites. Their weights are graph inputs, so
 * the test turns them into initializers (from the test's own input files) first: every Gemm
 * attribute combination (alpha, beta, transA/B, bias shapes), MatMul 2-D to 4-D, Conv padding and
 * strides, Gather on both axes.
 */
const NODE_CASES = [
  ...[
    'all_attributes',
    'alpha',
    'beta',
    'default_matrix_bias',
    'default_no_bias',
    'default_scalar_bias',
    'default_single_elem_vector_bias',
    'default_vector_bias',
    'default_zero_bias',
    'transposeA',
    'transposeB',
  ].map((n) => `test_gemm_${n}`),
  'test_matmul_2d',
  'test_matmul_3d',
  'test_matmul_4d',
  'test_conv_with_autopad_same',
  'test_conv_with_strides_and_asymmetric_padding',
  'test_conv_with_strides_no_padding',
  'test_conv_with_strides_padding',
  'test_gather_0',
  'test_gather_1',
  'test_gather_2d_indices',
].filter((n) => existsSync(join(NODE_ROOT, n, 'model.onnx')));
const cases = existsSync(ROOT) ? readdirSync(ROOT).sort() : [];

function readTensor(path: string): ort.Tensor {
  const t = protobuf.decodeMessage(onnx.schema.TensorProto, new Uint8Array(readFileSync(path)), {
    path,
  }) as onnx.OnnxTensor;
  const dims = (t.dims ?? []).map(Number);
  const raw = t.raw_data;
  if (t.data_type === 7) {
    const values = raw ? new BigInt64Array(raw.slice().buffer) : BigInt64Array.from(t.int64_data ?? []);
    return new ort.Tensor('int64', values, dims);
  }
  const values = raw ? new Float32Array(raw.slice().buffer) : Float32Array.from(t.float_data ?? []);
  return new ort.Tensor('float32', values, dims);
}

async function run(model: Uint8Array, input: ort.Tensor): Promise<Float64Array> {
  const session = await ort.InferenceSession.create(model);
  try {
    const out = await session.run({ [session.inputNames[0]!]: input });
    return tensorValues(out[session.outputNames[0]!]!);
  } finally {
    await session.release();
  }
}

function maxRel(expected: Float64Array, actual: Float64Array): number {
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(expected[i]! - actual[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return scale > 0 ? maxAbs / scale : maxAbs;
}

/** The model with the inputs at `weights` (indices into graph.input) made initializers from the test's files. */
function withWeights(
  dir: string,
  weights: readonly number[],
): { model: onnx.OnnxModel; feeds: Record<string, ort.Tensor> } {
  const model = onnx.decodeModel(new Uint8Array(readFileSync(join(dir, 'model.onnx'))), dir);
  const graph = model.graph!;
  const inputs = graph.input ?? [];
  const feeds: Record<string, ort.Tensor> = {};
  const initializers: onnx.OnnxTensor[] = [];
  inputs.forEach((info, k) => {
    const file = join(dir, 'test_data_set_0', `input_${k}.pb`);
    if (weights.includes(k)) {
      const t = protobuf.decodeMessage(onnx.schema.TensorProto, new Uint8Array(readFileSync(file)), {
        path: file,
      }) as onnx.OnnxTensor;
      initializers.push({ ...t, name: info.name ?? '' });
    } else feeds[info.name ?? ''] = readTensor(file);
  });
  const names = new Set(initializers.map((t) => t.name));
  return {
    model: {
      ...model,
      graph: {
        ...graph,
        input: inputs.filter((i) => !names.has(i.name ?? '')),
        initializer: [...(graph.initializer ?? []), ...initializers],
      },
    },
    feeds,
  };
}

describe.skipIf(NODE_CASES.length === 0)('libonnx-testdata operator tests, weights made constant', () => {
  it.each(NODE_CASES)('%s: quantized in both forms, runs and tracks the expected output', async (name) => {
    const dir = join(NODE_ROOT, name);
    const gather = name.startsWith('test_gather');
    const inputCount = existsSync(join(dir, 'test_data_set_0', 'input_2.pb')) ? 3 : 2;
    const { model, feeds } = withWeights(dir, gather ? [0] : inputCount === 3 ? [1, 2] : [1]);
    const expected = tensorValues(readTensor(join(dir, 'test_data_set_0', 'output_0.pb')));
    const op = gather
      ? 'Gather'
      : name.startsWith('test_gemm')
        ? 'Gemm'
        : name.startsWith('test_matmul')
          ? 'MatMul'
          : 'Conv';
    for (const format of ['qoperator', 'qdq'] as const)
      for (const perChannel of [false, true]) {
        const result = quantize.quantizeModel(model, { ops: [op], minWeightElements: 0, format, perChannel });
        const skippedWhy = result.skipped.map((s) => s.reason).join('; ');
        expect(result.quantized.length, skippedWhy).toBe(1);
        if (gather && name !== 'test_gather_0' && perChannel)
          expect(skippedWhy).toMatch(/per-channel only for row lookups/);
        const session = await ort.InferenceSession.create(onnx.encodeModel(result.model));
        const out = await session.run(feeds);
        await session.release();
        const actual = tensorValues(out[session.outputNames[0]!]!);
        // Random N(0,1) data in tiny tensors: int8 keeps about two significant digits.
        expect(maxRel(expected, actual), `${format} perChannel=${perChannel}`).toBeLessThan(
          gather ? 0.01 : 0.05,
        );
      }
  });
});

describe.skipIf(cases.length === 0)('libonnx-testdata pytorch-converted models', () => {
  it('fp16 results run in onnxruntime and track torch; int8 refuses their opset 6', async () => {
    const failures: string[] = [];
    let refusedOpset = 0;
    let converted = 0;
    let skippedOriginal = 0;
    for (const name of cases) {
      const dir = join(ROOT, name);
      const dataDir = join(dir, 'test_data_set_0');
      if (!existsSync(join(dataDir, 'input_0.pb')) || existsSync(join(dataDir, 'input_1.pb'))) continue;
      const model = onnx.decodeModel(new Uint8Array(readFileSync(join(dir, 'model.onnx'))), name);
      const input = readTensor(join(dataDir, 'input_0.pb'));
      const expected = tensorValues(readTensor(join(dataDir, 'output_0.pb')));
      // Some of the oldest exports (opset 1-6 AveragePool, BatchNorm, PRelu) have no kernel in this
      // onnxruntime at all: nothing derived from them can run either.
      const runs = await run(new Uint8Array(readFileSync(join(dir, 'model.onnx'))), input).then(
        () => true,
        () => false,
      );
      if (!runs) {
        skippedOriginal++;
        continue;
      }
      // onnxruntime's quantizer refuses opsets before 10; so does ferry's.
      if (Number(model.opset_import?.[0]?.version ?? 0n) < 10) {
        expect(() => quantize.quantizeModel(model, { minWeightElements: 0 })).toThrow(
          /needs ai.onnx opset 10 or later/,
        );
        refusedOpset++;
      }
      const attempts: [string, () => onnx.OnnxModel, number][] = [
        ['fp16', () => fp16.convertToFloat16(model, { keepIoTypes: true }).model, 0.01],
      ];
      for (const [what, transform, bound] of attempts) {
        let result: onnx.OnnxModel;
        try {
          result = transform();
        } catch (error) {
          // Refusals are fine (opset < 10 for the oldest exports), other exceptions are not.
          if (!(error instanceof FerryError || error instanceof OptimizeError)) throw error;
          continue;
        }
        try {
          const actual = await run(onnx.encodeModel(result), input);
          const rel = maxRel(expected, actual);
          if (!(rel < bound)) failures.push(`${name} ${what}: max rel error ${rel}`);
          converted++;
        } catch (error) {
          failures.push(`${name} ${what}: ${(error as Error).message.split('\n')[0]}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(refusedOpset).toBeGreaterThan(50);
    expect(converted).toBeGreaterThan(50);
    expect(skippedOriginal).toBeLessThan(25);
  });
});

/** Ops whose outputs are random: their float16 result cannot match float32's draw. */
const RANDOM_OUTPUT = /bernoulli|dropout|random/;

function readAnyTensor(path: string): ort.Tensor | undefined {
  const t = protobuf.decodeMessage(onnx.schema.TensorProto, new Uint8Array(readFileSync(path)), {
    path,
  }) as onnx.OnnxTensor;
  const raw = t.raw_data;
  if (!raw) return undefined;
  const dims = (t.dims ?? []).map(Number);
  const b = raw.slice().buffer;
  switch (t.data_type) {
    case 1:
      return new ort.Tensor('float32', new Float32Array(b), dims);
    case 2:
      return new ort.Tensor('uint8', new Uint8Array(b), dims);
    case 3:
      return new ort.Tensor('int8', new Int8Array(b), dims);
    case 6:
      return new ort.Tensor('int32', new Int32Array(b), dims);
    case 7:
      return new ort.Tensor('int64', new BigInt64Array(b), dims);
    case 9:
      return new ort.Tensor('bool', new Uint8Array(b), dims);
    case 10:
      return new ort.Tensor('float16', new Uint16Array(b), dims);
    case 11:
      return new ort.Tensor('float64', new Float64Array(b), dims);
    default:
      return undefined;
  }
}

const nodeTests = existsSync(NODE_ROOT) ? readdirSync(NODE_ROOT).sort() : [];

describe.skipIf(nodeTests.length === 0)('libonnx-testdata operator tests in float16', () => {
  it('every test onnxruntime runs in float32 converts (float32 I/O kept), runs and tracks float32', async () => {
    const failures: string[] = [];
    let ok = 0;
    let refused = 0;
    for (const name of nodeTests) {
      // `_expanded` variants repeat an op's test as its function body: the op's own test is enough.
      if (RANDOM_OUTPUT.test(name) || name.endsWith('_expanded')) continue;
      const dir = join(NODE_ROOT, name);
      const data = join(dir, 'test_data_set_0');
      if (!existsSync(join(dir, 'model.onnx')) || !existsSync(data)) continue;
      const model = onnx.decodeModel(new Uint8Array(readFileSync(join(dir, 'model.onnx'))), name);
      const initializers = new Set((model.graph?.initializer ?? []).map((t) => t.name));
      const inputs = (model.graph?.input ?? []).filter((i) => !initializers.has(i.name));
      const feeds: Record<string, ort.Tensor> = {};
      const complete = inputs.every((info, k) => {
        const file = join(data, `input_${k}.pb`);
        const t = existsSync(file) ? readAnyTensor(file) : undefined;
        if (t) feeds[info.name ?? ''] = t;
        return t !== undefined;
      });
      if (!complete) continue;
      let reference: ort.Tensor;
      try {
        const s = await ort.InferenceSession.create(onnx.encodeModel(model), {
          logSeverityLevel: 4,
          graphOptimizationLevel: 'disabled',
        });
        const out = await s.run(feeds);
        reference = out[s.outputNames[0]!]!;
        await s.release();
      } catch {
        continue; // this onnxruntime cannot run the original (batchwise RNN layouts, ...)
      }
      if (reference.type !== 'float32') continue;
      let converted: onnx.OnnxModel;
      try {
        converted = fp16.convertToFloat16(model, { keepIoTypes: true }).model;
      } catch (error) {
        if (!(error instanceof FerryError || error instanceof OptimizeError)) throw error;
        refused++; // subgraphs, opset < 6
        continue;
      }
      try {
        const s = await ort.InferenceSession.create(onnx.encodeModel(converted), {
          logSeverityLevel: 4,
          graphOptimizationLevel: 'disabled',
        });
        const out = await s.run(feeds);
        const actual = tensorValues(out[s.outputNames[0]!]!);
        await s.release();
        const rel = maxRel(tensorValues(reference), actual);
        // float16 keeps about 3 significant digits; 2% covers accumulations over a few hundred terms.
        if (!(rel < 0.02)) failures.push(`${name}: max rel error ${rel}`);
        else ok++;
      } catch (error) {
        failures.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(400);
    expect(refused).toBeLessThan(30);
  });
});
