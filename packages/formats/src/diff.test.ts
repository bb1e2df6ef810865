import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffModels, maxAbsDifference } from './diff.js';
import { writeSafetensors } from './safetensors/write.js';
import { BufferSource } from './tensor/byte-source.js';
import type { DType } from './tensor/dtype.js';
import type { TensorRef } from './tensor/tensor-ref.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const t = (name: string, dtype: DType, shape: number[], values: ArrayBufferView): TensorRef => {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return { name, dtype, shape, source: new BufferSource(bytes), offset: 0, byteLength: bytes.length };
};

/** Exact float16 bits for multiples of 1/8 below 128 (what the test uses). */
function f16Bits(value: number): number {
  if (value === 0) return 0;
  const exponent = Math.floor(Math.log2(value));
  const mantissa = Math.round((value / 2 ** exponent - 1) * 1024);
  return ((exponent + 15) << 10) | mantissa;
}

const A = join(dir, 'a.safetensors');
const B = join(dir, 'b.safetensors');
const C = join(dir, 'c.safetensors');

beforeAll(async () => {
  await writeSafetensors(A, [
    t('w', 'F32', [2, 2], new Float32Array([1, 2, 3, Number.NaN])),
    t('b', 'F32', [2], new Float32Array([0.5, 0.25])),
    t('ids', 'I64', [2], new BigInt64Array([1n, 2n])),
    t('only_a', 'U8', [1], new Uint8Array([1])),
  ]);
  await writeSafetensors(B, [
    t('w', 'F32', [2, 2], new Float32Array([1, 2, 3.001, Number.NaN])),
    t('b', 'F16', [2], new Uint16Array([0x3800, 0x3400])),
    t('ids', 'I64', [1, 2], new BigInt64Array([1n, 2n])),
    t('only_b', 'U8', [1], new Uint8Array([1])),
  ]);
  await writeSafetensors(C, [
    t('w', 'F32', [2, 2], new Float32Array([1, 2, 3, Number.NaN])),
    t('b', 'F32', [2], new Float32Array([0.5, 0.25])),
    t('ids', 'I64', [2], new BigInt64Array([1n, 2n])),
    t('only_a', 'U8', [1], new Uint8Array([1])),
  ]);
});

describe('diffModels', () => {
  it('equal files are equal (NaN at the same place included)', async () => {
    const report = await diffModels(A, C);
    expect(report.equal).toBe(true);
    expect(report.tensors.every((x) => x.status === 'equal' && x.maxAbsDiff === 0)).toBe(true);
  });

  it('reports missing names, value, dtype and shape differences', async () => {
    const report = await diffModels(A, B);
    expect(report.equal).toBe(false);
    expect(report.onlyInA).toEqual(['only_a']);
    expect(report.onlyInB).toEqual(['only_b']);
    const byName = Object.fromEntries(report.tensors.map((x) => [x.name, x]));
    expect(byName.w!.status).toBe('different');
    expect(byName.w!.maxAbsDiff).toBeCloseTo(0.001, 6);
    // Different dtypes with equal values: the values still compare, the dtype is the difference.
    expect(byName.b).toMatchObject({ status: 'dtype-mismatch', dtypeA: 'F32', dtypeB: 'F16', maxAbsDiff: 0 });
    expect(byName.ids).toMatchObject({
      status: 'shape-mismatch',
      shapeA: [2],
      shapeB: [1, 2],
      maxAbsDiff: null,
    });
  });

  it('atol turns small differences into within-atol', async () => {
    const report = await diffModels(A, B, { atol: 0.01 });
    expect(report.tensors.find((x) => x.name === 'w')).toMatchObject({
      status: 'within-atol',
      withinAtol: true,
    });
  });

  it('streams tensors larger than one step (1M elements), across dtypes', async () => {
    const n = 1_500_000;
    const values = new Float32Array(n).map((_, i) => (i % 1000) / 8);
    const changed = values.slice();
    changed[n - 1] = changed[n - 1]! + 0.25;
    const half = new Uint16Array(n).map((_, i) => f16Bits((i % 1000) / 8));
    const X = join(dir, 'big-x.safetensors');
    const Y = join(dir, 'big-y.safetensors');
    const Z = join(dir, 'big-z.safetensors');
    await writeSafetensors(X, [t('big', 'F32', [n], values)]);
    await writeSafetensors(Y, [t('big', 'F32', [n], changed)]);
    await writeSafetensors(Z, [t('big', 'F16', [n], half)]);
    expect((await diffModels(X, Y)).tensors[0]).toMatchObject({ status: 'different', maxAbsDiff: 0.25 });
    expect((await diffModels(X, Z)).tensors[0]).toMatchObject({ status: 'dtype-mismatch', maxAbsDiff: 0 });
  });

  it('NaN against a number, and opposite infinities, are infinitely different', () => {
    expect(maxAbsDifference(new Float64Array([Number.NaN]), new Float64Array([1]))).toBe(Infinity);
    expect(maxAbsDifference(new Float64Array([Infinity]), new Float64Array([-Infinity]))).toBe(Infinity);
    expect(maxAbsDifference(new Float64Array([Infinity, 1]), new Float64Array([Infinity, 1.5]))).toBe(0.5);
  });
});

describe('models without tensors', () => {
  it('are compared byte for byte: never "equal" because 0 of 0 tensors match', async () => {
    const empty1 = join(dir, 'empty1.safetensors');
    const empty2 = join(dir, 'empty2.safetensors');
    await writeSafetensors(empty1, [], { note: 'one' });
    await writeSafetensors(empty2, [], { note: 'two' });
    const different = await diffModels(empty1, empty2);
    expect({ equal: different.equal, comparedBy: different.comparedBy }).toEqual({
      equal: false,
      comparedBy: 'bytes',
    });
    const same = await diffModels(empty1, empty1);
    expect({ equal: same.equal, comparedBy: same.comparedBy }).toEqual({ equal: true, comparedBy: 'bytes' });
  });
});
