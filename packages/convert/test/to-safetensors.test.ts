import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConvertError } from '../src/errors.js';
import { diffModels, FerryError, openModel, type WriteProgress } from '../src/formats.js';
import { convertToSafetensors, writeModelAsSafetensors } from '../src/to-safetensors.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/safetensors/', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'ferry-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convertToSafetensors', () => {
  it('converts a file to an equal one, reporting progress', async () => {
    const out = join(dir, 'all.safetensors');
    const progress: WriteProgress[] = [];
    const result = await convertToSafetensors(join(FIXTURES, 'all_dtypes.safetensors'), out, {
      onProgress: (p) => progress.push(p),
    });
    expect(result).toMatchObject({ format: 'safetensors', tensors: 17, shared: {} });
    expect(progress).toHaveLength(17);
    expect(Buffer.compare(readFileSync(out), readFileSync(join(FIXTURES, 'all_dtypes.safetensors')))).toBe(0);
    expect((await diffModels(join(FIXTURES, 'all_dtypes.safetensors'), out)).equal).toBe(true);
  });

  it('writes tied weights once and records the other names in __metadata__ (convert.py style)', async () => {
    const model = await openModel(join(FIXTURES, 'small.safetensors'));
    const out = join(dir, 'tied.safetensors');
    try {
      const weight = model.tensors.find((t) => t.name === 'linear.weight')!;
      // A reader of a PyTorch checkpoint hands out tied weights exactly like this: two names, one storage range.
      const tied = {
        ...model,
        tensors: [...model.tensors, { ...weight, name: 'lm_head.weight' }, { ...weight, name: 'a.tied' }],
      };
      const result = await writeModelAsSafetensors(tied, out);
      expect(result.shared).toEqual({ 'lm_head.weight': 'a.tied', 'linear.weight': 'a.tied' });
      expect(result.tensors).toBe(3);
    } finally {
      await model.close();
    }
    const written = await openModel(out);
    try {
      expect(written.tensors.map((t) => t.name).sort()).toEqual(['a.tied', 'embed.ids', 'linear.bias']);
      expect(written.metadata).toEqual({ 'lm_head.weight': 'a.tied', 'linear.weight': 'a.tied' });
    } finally {
      await written.close();
    }
  });

  it('keeps distinct empty tensors that sit at the same offset', async () => {
    const out = join(dir, 'empty.safetensors');
    const result = await convertToSafetensors(join(FIXTURES, 'empty_and_scalar.safetensors'), out);
    expect(result.tensors).toBe(5);
    expect(result.shared).toEqual({});
  });

  it('refuses opaque tensors with one error naming them, and writes nothing', async () => {
    const model = await openModel(join(FIXTURES, 'small.safetensors'));
    const out = join(dir, 'opaque.safetensors');
    try {
      const withOpaque = {
        ...model,
        opaque: [
          { name: 'blk.0.q', type: 'Q4_K', shape: [256], byteLength: 144, reason: 'quantized blocks' },
          { name: 'vocab', type: 'STRING', shape: [3], byteLength: 12, reason: 'strings' },
        ],
      };
      const error = await writeModelAsSafetensors(withOpaque, out).catch((e) => e);
      expect(error).toBeInstanceOf(ConvertError);
      expect(error.code).toBe('FERRY_CONVERT_OPAQUE');
      expect(error.message).toContain('blk.0.q (Q4_K');
      expect(error.message).toContain('vocab (STRING');
    } finally {
      await model.close();
    }
    expect(readdirSync(dir)).not.toContain('opaque.safetensors');
  });

  it('a source that fails mid-conversion leaves no output and no temp file', async () => {
    const input = join(dir, 'shrinking.safetensors');
    copyFileSync(join(FIXTURES, 'all_dtypes.safetensors'), input);
    const model = await openModel(input);
    const outDir = join(dir, 'mid');
    try {
      // The file shrinks after its header was read: the last tensors can no longer be read.
      truncateSync(input, readFileSync(input).length - 40);
      const error = await writeModelAsSafetensors(model, join(outDir, 'out.safetensors')).catch((e) => e);
      expect(error).toBeInstanceOf(FerryError);
      expect(error.code).toBe('FERRY_TRUNCATED');
    } finally {
      await model.close();
    }
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('bad input fails before any output exists', async () => {
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a":1} ')]));
    await expect(convertToSafetensors(bad, join(dir, 'never.safetensors'))).rejects.toMatchObject({
      code: 'FERRY_SAFETENSORS_TENSOR_INFO',
    });
    expect(readdirSync(dir)).not.toContain('never.safetensors');
  });
});
