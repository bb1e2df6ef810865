import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/detect.js';
import { inspectModel } from '../../src/inspect.js';
import { openModel } from '../../src/open.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { float32Text } from '../../src/gguf/metadata-text.js';

const fixture = (name: string) => new URL(`../../../../fixtures/gguf/${name}`, import.meta.url).pathname;
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as {
  tensors: { name: string; ggmlType: string; shape: number[] }[];
};

describe('gguf handler', () => {
  it.each(['tiny-v3-le.gguf', 'tiny-v3-be.gguf', 'tiny-v2-le.gguf'])(
    'detects %s by its magic',
    async (name) => {
      expect(await detectFormat(fixture(name))).toBe('gguf');
    },
  );

  it('inspect: scalars as metadata strings, arrays summarised, quantized tensors opaque', async () => {
    const report = await inspectModel(fixture('tiny-v3-be.gguf'));
    expect(report.format).toBe('gguf');
    expect(report.metadata).toMatchObject({
      'general.architecture': 'ferryarch',
      'general.alignment': '64',
      'ferry.f32': '0.1',
      'ferry.u64': '18446744073709551615',
      'ferry.i64': '-9223372036854775807',
      'ferry.bool': 'true',
      'ferryarch.rope.freq_base': '10000',
    });
    expect(report.details).toMatchObject({
      version: 3,
      byteOrder: 'big',
      alignment: 64,
      arrays: {
        'tokenizer.ggml.tokens': '65 strings',
        'tokenizer.ggml.scores': '65 float32',
        'ferry.nested': '3 arrays',
      },
      ggmlTypes: { Q8_0: 1, Q4_0: 1, F32: 1 },
    });
    expect(report.opaque?.map((t) => [t.name, t.type, t.shape])).toEqual([
      ['blk.0.ffn_up.weight', 'Q8_0', [2, 64]],
      ['blk.0.ffn_down.weight', 'Q4_0', [3, 32]],
    ]);
    const dense = expected.tensors.filter((t) => !t.ggmlType.startsWith('Q'));
    expect(report.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(
      dense.map((t) => [t.name, t.ggmlType, t.shape]),
    );
    expect(report.findings).toBeUndefined();
  });

  it('big-endian tensors carry byteOrder and read back equal to the little-endian file', async () => {
    const le = await openModel(fixture('tiny-v3-le.gguf'));
    const be = await openModel(fixture('tiny-v3-be.gguf'));
    try {
      expect(be.tensors.every((t) => t.byteOrder === 'big')).toBe(true);
      expect(le.tensors.every((t) => t.byteOrder === undefined)).toBe(true);
      for (const [i, ref] of le.tensors.entries()) {
        expect(Buffer.from(await readTensorBytes(be.tensors[i]!))).toEqual(
          Buffer.from(await readTensorBytes(ref)),
        );
      }
    } finally {
      await le.close();
      await be.close();
    }
  });

  it('prints float32 values as their shortest round-tripping decimal', () => {
    expect(float32Text(Math.fround(0.1))).toBe('0.1');
    expect(float32Text(Math.fround(1e-5))).toBe('0.00001');
    expect(float32Text(Math.fround(3.4028234663852886e38))).toBe('3.4028235e+38');
    expect(float32Text(Number.NaN)).toBe('NaN');
  });
});
