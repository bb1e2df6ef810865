import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FerryError, onnx } from '@ferry/formats';
import { describe, expect, it } from 'vitest';
import { optimizeModel } from '../src/index.js';
import { EXPECTED, errors, fixture, readBytes, runOnStored, tempDir } from './optimize-fixtures.helper.js';

describe('optimizeModel', () => {
  const dir = tempDir();

  it('fuses the transformer layer (LayerNorm, MatMul+Add) and keeps its outputs', async () => {
    const out = join(dir, 'transformer.opt.onnx');
    const report = await optimizeModel(fixture('transformer.onnx'), out, { level: 'extended' });
    expect(report.nodesAfter).toBeLessThan(report.nodesBefore);
    expect(report.ops.LayerNormalization).toEqual([0, 2]);
    expect(report.ops.ReduceMean).toEqual([4, 0]);
    const model = onnx.decodeModel(readBytes(out));
    expect(onnx.checkModel(model)).toEqual([]);
    const y = (await runOnStored(out, 'transformer.onnx')).y!;
    expect(errors(EXPECTED['transformer.onnx']!.outputs.y!.data, y).maxAbs).toBeLessThan(1e-4);
  });

  it.each(['basic', 'all'] as const)(
    'writes a model that runs at level %s, with --verify figures',
    async (level) => {
      const out = join(dir, `cnn.${level}.onnx`);
      const report = await optimizeModel(fixture('cnn.onnx'), out, { level, verify: { samples: 8 } });
      expect(report.verify?.samples).toBe(8);
      expect(report.verify?.outputs[0]?.maxAbsError).toBeLessThan(1e-4);
      expect(report.verify?.outputs[0]?.top1Agreement).toBe(1);
      const y = (await runOnStored(out, 'cnn.onnx')).y!;
      expect(errors(EXPECTED['cnn.onnx']!.outputs.y!.data, y).maxAbs).toBeLessThan(1e-4);
    },
  );

  it('--external-data: onnxruntime writes the big tensors to OUT.onnx.data; ferry reads it back', async () => {
    const out = join(dir, 'transformer.ext.opt.onnx');
    const report = await optimizeModel(fixture('transformer.onnx'), out, {
      externalData: true,
      verify: { samples: 2 },
    });
    expect(report.dataPath).toBe(`${out}.data`);
    const loaded = await onnx.loadOnnx(out);
    expect(loaded.model.graph!.initializer!.some((t) => t.data_location === 1)).toBe(true);
    expect(report.verify?.outputs[0]?.maxAbsError).toBeLessThan(1e-4);
    const y = (await runOnStored(out, 'transformer.onnx')).y!;
    expect(errors(EXPECTED['transformer.onnx']!.outputs.y!.data, y).maxAbs).toBeLessThan(1e-4);
    expect(readdirSync(dir).filter((f) => f.includes('ferry-tmp'))).toEqual([]);
  });

  it('leaves no output and no temp file when the model is corrupt', async () => {
    const bytes = readBytes(fixture('mlp.onnx'));
    const corrupt = join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, bytes.subarray(0, bytes.length - 5000));
    const out = join(dir, 'corrupt.opt.onnx');
    await expect(optimizeModel(corrupt, out)).rejects.toBeInstanceOf(FerryError);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('ferry-tmp'))).toEqual([]);
  });
});
