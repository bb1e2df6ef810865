import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { onnx, onnxOpHistogram } from '@ferry/formats';
import { describe, expect, it } from 'vitest';
import * as fp16 from '../src/fp16/convert.js';
import { convertFileToFloat16, ort } from '../src/index.js';
import { EXPECTED, errors, fixture, readBytes, runOnStored, tempDir } from './optimize-fixtures.helper.js';

/** float16 keeps ~3 significant digits; measured errors are a fifth of this bound or less. */
const MAX_REL_ERROR = 0.005;

async function ioTypes(path: string) {
  const s = await ort.InferenceSession.create(path);
  const types = [...s.inputMetadata, ...s.outputMetadata].map((m) => (m.isTensor ? m.type : '?'));
  await s.release();
  return types;
}

describe('convertFileToFloat16', () => {
  const dir = tempDir();

  for (const model of ['mlp.onnx', 'cnn.onnx', 'transformer.onnx', 'embedding.onnx'])
    for (const keepIoTypes of [false, true])
      it(`${model}${keepIoTypes ? ' keeping float32 I/O' : ''}: halves the file and tracks torch`, async () => {
        const out = join(dir, `${model}.${keepIoTypes}.fp16.onnx`);
        const report = await convertFileToFloat16(fixture(model), out, { keepIoTypes });
        expect(report.bytesAfter / report.bytesBefore).toBeLessThan(0.55);
        const types = await ioTypes(out);
        const isIds = model === 'embedding.onnx';
        expect(types).toEqual(
          keepIoTypes ? [isIds ? 'int64' : 'float32', 'float32'] : [isIds ? 'int64' : 'float16', 'float16'],
        );
        const y = (await runOnStored(out, model)).y!;
        expect(errors(EXPECTED[model]!.outputs.y!.data, y).maxRel).toBeLessThan(MAX_REL_ERROR);
      });

  it('keeps block-listed TopK in float32 with Casts around it, indices exact', async () => {
    const out = join(dir, 'topk.fp16.onnx');
    const report = await convertFileToFloat16(fixture('topk.onnx'), out, { keepIoTypes: true });
    expect(report.blockedNodes).toEqual(['/TopK']);
    const model = onnx.decodeModel(readBytes(out));
    const topk = model.graph!.node!.find((n) => n.op_type === 'TopK')!;
    const producer = model.graph!.node!.find((n) => n.output?.includes(topk.input![0]!))!;
    expect(producer.op_type).toBe('Cast');
    expect(producer.attribute?.[0]?.i).toBe(1n);
    expect(onnxOpHistogram(model.graph!).Cast).toBe(4);
    const out16 = await runOnStored(out, 'topk.onnx');
    const expected = EXPECTED['topk.onnx']!.outputs;
    expect(errors(expected.values!.data, out16.values!).maxRel).toBeLessThan(MAX_REL_ERROR);
    expect([...out16.indices!]).toEqual(expected.indices!.data);
  });

  it('clamps values outside float16 range instead of making them infinite', () => {
    expect(fp16.toFloat16Bits(1e6)).toBe(0x7c00);
    const model = onnx.decodeModel(readBytes(fixture('mlp.onnx')));
    const w = model.graph!.initializer!.find((t) => t.name === 'fc1.weight')!;
    const view = new DataView(w.raw_data!.buffer, w.raw_data!.byteOffset, w.raw_data!.byteLength);
    const raw = new Uint8Array(w.raw_data!);
    const big = new DataView(raw.buffer);
    big.setFloat32(0, 1e6, true);
    big.setFloat32(4, -1e-12, true);
    w.raw_data = raw;
    const result = fp16.convertToFloat16(model);
    expect(result.clamped).toBe(2);
    const half = result.model.graph!.initializer!.find((t) => t.name === 'fc1.weight')!.raw_data!;
    const h = new DataView(half.buffer, half.byteOffset, half.byteLength);
    expect(fp16.fromFloat16Bits(h.getUint16(0, true))).toBe(65504);
    expect(fp16.fromFloat16Bits(h.getUint16(2, true))).toBe(-(2 ** -24));
    expect(fp16.fromFloat16Bits(h.getUint16(4, true))).toBeCloseTo(view.getFloat32(8, true), 3);
  });

  it('refuses a model that is already float16, writing nothing', async () => {
    const once = join(dir, 'once.fp16.onnx');
    await convertFileToFloat16(fixture('mlp.onnx'), once);
    const twice = join(dir, 'twice.fp16.onnx');
    await expect(convertFileToFloat16(once, twice)).rejects.toMatchObject({ code: 'FERRY_FP16_ALREADY' });
    expect(existsSync(twice)).toBe(false);
  });

  it('reports --verify figures with float32 inputs fed as float16', async () => {
    const out = join(dir, 'mlp.verify.fp16.onnx');
    const report = await convertFileToFloat16(fixture('mlp.onnx'), out, { verify: { samples: 32 } });
    expect(report.verify!.outputs[0]).toMatchObject({ rows: 32, top1Agreement: 1 });
    expect(report.verify!.outputs[0]!.maxRelError).toBeLessThan(MAX_REL_ERROR);
  });
});
