import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openModel } from '../../src/open.js';
import { FIXTURES } from '../safetensors-files.helper.js';
import { BufferSource } from '../../src/tensor/byte-source.js';
import { readTensorChunks } from '../../src/tensor/chunks.js';
import { readTensorBytes, type TensorRef } from '../../src/tensor/tensor-ref.js';

async function collect(ref: TensorRef, buffer?: Uint8Array): Promise<{ bytes: Buffer; chunks: number }> {
  const parts: Buffer[] = [];
  for await (const chunk of readTensorChunks(ref, buffer)) parts.push(Buffer.from(chunk));
  return { bytes: Buffer.concat(parts), chunks: parts.length };
}

describe('readTensorChunks', () => {
  it('streams every fixture tensor through a small reused buffer, equal to readTensorBytes', async () => {
    const model = await openModel(join(FIXTURES, 'all_dtypes.safetensors'));
    try {
      for (const ref of model.tensors) {
        const { bytes, chunks } = await collect(ref, new Uint8Array(5));
        expect(bytes.equals(Buffer.from(await readTensorBytes(ref)))).toBe(true);
        expect(chunks).toBe(Math.ceil(ref.byteLength / 5));
      }
    } finally {
      await model.close();
    }
  });

  it('gathers strided and big-endian tensors in one chunk', async () => {
    const source = new BufferSource(new Uint8Array([0, 1, 0, 2, 0, 3, 0, 4]));
    const ref: TensorRef = {
      name: 't',
      dtype: 'U16',
      shape: [2, 2],
      source,
      offset: 0,
      byteLength: 8,
      byteOrder: 'big',
      strides: [1, 2],
    };
    const { bytes, chunks } = await collect(ref, new Uint8Array(2));
    expect(chunks).toBe(1);
    expect([...new Uint16Array(bytes.buffer, bytes.byteOffset, 4)]).toEqual([1, 3, 2, 4]);
  });
});
