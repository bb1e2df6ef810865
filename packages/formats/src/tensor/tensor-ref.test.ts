import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../errors.js';
import { BufferSource, FileSource, SliceSource } from './byte-source.js';
import { denseByteLength, isContiguous, readTensorBytes, type TensorRef } from './tensor-ref.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-tensor-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const f32 = (...values: number[]) => new Uint8Array(new Float32Array(values).buffer);

describe('byte sources', () => {
  it('reads exact ranges of a file and refuses ranges past its end', async () => {
    const path = join(dir, 'data.bin');
    await writeFile(
      path,
      Uint8Array.from({ length: 100 }, (_, i) => i),
    );
    const source = await FileSource.open(path);
    try {
      expect(source.size).toBe(100);
      expect([...(await source.read(10, 3))]).toEqual([10, 11, 12]);
      await expect(source.read(98, 3)).rejects.toMatchObject({ code: 'FERRY_TRUNCATED' });
      await expect(source.read(-1, 1)).rejects.toBeInstanceOf(FerryError);
      const slice = new SliceSource(source, 50, 10);
      expect([...(await slice.read(0, 2))]).toEqual([50, 51]);
      await expect(slice.read(9, 2)).rejects.toMatchObject({ code: 'FERRY_TRUNCATED' });
    } finally {
      await source.close();
    }
  });

  it('names a missing file in a FERRY_NOT_FOUND error', async () => {
    await expect(FileSource.open(join(dir, 'nope.bin'))).rejects.toMatchObject({ code: 'FERRY_NOT_FOUND' });
  });
});

describe('tensor refs', () => {
  it('reads only the tensor range, and swaps big-endian data without touching the source', async () => {
    const bytes = new Uint8Array([9, 9, 0x3f, 0x80, 0, 0, 0x40, 0, 0, 0]);
    const source = new BufferSource(bytes);
    const ref: TensorRef = {
      name: 'x',
      dtype: 'F32',
      shape: [2],
      source,
      offset: 2,
      byteLength: 8,
      byteOrder: 'big',
    };
    const out = await readTensorBytes(ref);
    expect([...new Float32Array(out.buffer, out.byteOffset, 2)]).toEqual([1, 2]);
    expect(bytes[2]).toBe(0x3f);
  });

  it('gathers a transposed (strided) view into C order', async () => {
    // Storage holds a 2x3 matrix [[0,1,2],[3,4,5]]; the view is its transpose (3x2, strides [1,3]).
    const source = new BufferSource(f32(0, 1, 2, 3, 4, 5));
    const ref: TensorRef = {
      name: 't',
      dtype: 'F32',
      shape: [3, 2],
      strides: [1, 3],
      source,
      offset: 0,
      byteLength: 24,
    };
    expect(isContiguous(ref)).toBe(false);
    const out = await readTensorBytes(ref);
    expect([...new Float32Array(out.buffer, out.byteOffset, 6)]).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('treats C-order strides as contiguous and handles empty tensors', async () => {
    const source = new BufferSource(f32(1, 2, 3, 4));
    expect(
      isContiguous({
        name: 'a',
        dtype: 'F32',
        shape: [2, 2],
        strides: [2, 1],
        source,
        offset: 0,
        byteLength: 16,
      }),
    ).toBe(true);
    const empty = await readTensorBytes({
      name: 'e',
      dtype: 'F32',
      shape: [0, 3],
      strides: [3, 1],
      source,
      offset: 0,
      byteLength: 0,
    });
    expect(empty.length).toBe(0);
  });

  it('refuses shapes whose byte size overflows or whose dims are invalid', () => {
    expect(denseByteLength('F32', [2, 3])).toBe(24);
    expect(() => denseByteLength('F64', [2 ** 30, 2 ** 30, 2 ** 10], 'm.bin', 'w')).toThrow(
      /m.bin: tensor w: shape/,
    );
    expect(() => denseByteLength('F32', [-1])).toThrow(FerryError);
    expect(() => denseByteLength('F32', [1.5])).toThrow(FerryError);
  });
});
