import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openModel, readTensorBytes } from '@ferry/formats';
import { afterAll, describe, expect, it } from 'vitest';
import { convertToSafetensors } from '../src/to-safetensors.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/savedmodel', import.meta.url));
const TF1 = `${FIXTURES}/saved_model_half_plus_two_cpu/00000123`;
const TF2 = `${FIXTURES}/saved_model_half_plus_two_tf2_cpu/00000123`;
const TFJS = `${FIXTURES}/tfjs-node`;
const work = mkdtempSync(join(tmpdir(), 'ferry-savedmodel-convert-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function valuesOf(path: string): Promise<Record<string, number[]>> {
  const model = await openModel(path);
  try {
    const out: Record<string, number[]> = {};
    for (const t of model.tensors) {
      const bytes = await readTensorBytes(t);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const n = bytes.length / (t.dtype === 'I64' ? 8 : 4);
      out[t.name] = Array.from({ length: n }, (_, i) =>
        t.dtype === 'F32'
          ? view.getFloat32(i * 4, true)
          : t.dtype === 'I64'
            ? Number(view.getBigInt64(i * 8, true))
            : view.getInt32(i * 4, true),
      );
    }
    return out;
  } finally {
    await model.close();
  }
}

let files = 0;

describe('SavedModel: variables to safetensors', () => {
  it.each([TF1, TF2, `${TFJS}/int64_multiply`])('%s converts and reads back the same values', async (dir) => {
    const out = join(work, `convert-${files++}.safetensors`);
    const result = await convertToSafetensors(dir, out);
    expect(result.format).toBe('savedmodel');
    expect(await valuesOf(out)).toEqual(await valuesOf(dir));
  });
});
