import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from '@ferry/formats';
import { describe, expect, it } from 'vitest';
import { convertFileToFloat16, loadForTransform, quantize, quantizeFile } from '../src/index.js';
import { OptimizeError } from '../src/errors.js';
import { writeResult } from '../src/write-result.js';
import { EXPECTED, errors, fixture, runOnStored, tempDir } from './optimize-fixtures.helper.js';

describe('writeResult and external data', () => {
  const dir = tempDir();

  it('--external-data: big tensors go to OUT.onnx.data, 4 KiB aligned, and the model still runs', async () => {
    const out = join(dir, 'transformer.ext.onnx');
    const report = await quantizeFile(fixture('transformer.onnx'), out, {
      externalData: true,
      verify: { samples: 4 },
    });
    expect(report.dataPath).toBe(`${out}.data`);
    const loaded = await onnx.loadOnnx(out);
    const external = (loaded.model.graph!.initializer ?? []).filter((t) => t.data_location === 1);
    expect(external.length).toBeGreaterThan(0);
    for (const t of external) {
      const offset = Number(t.external_data!.find((e) => e.key === 'offset')!.value);
      expect(offset % onnx.ONNX_EXTERNAL_ALIGNMENT).toBe(0);
      expect(t.external_data!.find((e) => e.key === 'location')!.value).toBe('transformer.ext.onnx.data');
    }
    const y = (await runOnStored(out, 'transformer.onnx')).y!;
    expect(errors(EXPECTED['transformer.onnx']!.outputs.y!.data, y).maxRel).toBeLessThan(0.02);
    // Read back through ferry's confinement rules: a quantized model is refused by both transforms.
    await expect(quantizeFile(out, join(dir, 'again.onnx'))).rejects.toMatchObject({
      code: 'FERRY_QUANTIZE_ALREADY',
    });
    await expect(convertFileToFloat16(out, join(dir, 'again.onnx'))).rejects.toMatchObject({
      code: 'FERRY_QUANTIZE_ALREADY',
    });
    expect(existsSync(join(dir, 'again.onnx'))).toBe(false);
  });

  it('fp16 with external data runs and tracks torch', async () => {
    const out = join(dir, 'cnn.fp16.ext.onnx');
    const report = await convertFileToFloat16(fixture('cnn.onnx'), out, {
      externalData: true,
      keepIoTypes: true,
    });
    expect(report.dataPath).toBe(`${out}.data`);
    const y = (await runOnStored(out, 'cnn.onnx')).y!;
    expect(errors(EXPECTED['cnn.onnx']!.outputs.y!.data, y).maxRel).toBeLessThan(0.005);
  });

  it('switches to external data on its own past the size limit', async () => {
    const { model } = await loadForTransform(fixture('mlp.onnx'));
    const out = join(dir, 'mlp.auto.onnx');
    const written = await writeResult(quantize.quantizeModel(model).model, out, 'quantized', {
      maxModelBytes: 10_000,
    });
    expect(written.dataPath).toBe(`${out}.data`);
    expect(existsSync(`${out}.data`)).toBe(true);
  });

  it('leaves neither the model nor its data file when a check after writing fails', async () => {
    const { model } = await loadForTransform(fixture('mlp.onnx'));
    const out = join(dir, 'mlp.fail.onnx');
    const failing = writeResult(quantize.quantizeModel(model).model, out, 'quantized', {
      externalData: true,
      beforeCommit: async () => {
        throw new OptimizeError('FERRY_OPTIMIZE_RUNTIME', { path: out, what: 'verify', reason: 'simulated' });
      },
    });
    await expect(failing).rejects.toMatchObject({ code: 'FERRY_OPTIMIZE_RUNTIME' });
    expect(readdirSync(dir).filter((f) => f.startsWith('mlp.fail') || f.startsWith('.mlp.fail'))).toEqual([]);
  });

  it('refuses a structurally broken result before writing anything', async () => {
    const { model } = await loadForTransform(fixture('mlp.onnx'));
    const broken = { ...model, graph: { ...model.graph, node: [...(model.graph!.node ?? [])].reverse() } };
    const out = join(dir, 'broken.onnx');
    await expect(writeResult(broken, out, 'quantized')).rejects.toMatchObject({
      code: 'FERRY_OPTIMIZE_CHECK',
      message: expect.stringMatching(/the quantized model fails the structural check: topological-order/),
    });
    expect(existsSync(out)).toBe(false);
  });
});
