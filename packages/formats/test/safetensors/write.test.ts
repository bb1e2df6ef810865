import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { openModel } from '../../src/open.js';
import { BufferSource } from '../../src/tensor/byte-source.js';
import type { TensorRef } from '../../src/tensor/tensor-ref.js';
import { readSafetensorsHeader } from '../../src/safetensors/read.js';
import { FIXTURES } from '../safetensors-files.helper.js';
import { type WriteProgress, writeSafetensors } from '../../src/safetensors/write.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-st-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ref = (name: string, dtype: TensorRef['dtype'], shape: number[], bytes: Uint8Array): TensorRef => ({
  name,
  dtype,
  shape,
  source: new BufferSource(bytes),
  offset: 0,
  byteLength: bytes.length,
});

describe('writeSafetensors', () => {
  it.each([
    'all_dtypes.safetensors',
    'empty_and_scalar.safetensors',
    'small.safetensors',
    'no_tensors.safetensors',
  ])('rewrites %s byte for byte (same order, header, padding as the reference algorithm)', async (file) => {
    const original = readFileSync(join(FIXTURES, file));
    const model = await openModel(join(FIXTURES, file));
    const out = join(dir, file);
    try {
      // Shuffle the input: the writer must impose the reference order itself.
      const tensors = [...model.tensors].reverse();
      const hasMetadata = original.subarray(8, 30).toString().includes('__metadata__');
      await writeSafetensors(out, tensors, hasMetadata ? model.metadata : undefined);
    } finally {
      await model.close();
    }
    expect(Buffer.compare(readFileSync(out), original)).toBe(0);
  });

  it('matches the reference test vectors (tensor.rs test_serialization and test_empty)', async () => {
    const data = new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5]).buffer);
    await writeSafetensors(join(dir, 'v1.safetensors'), [ref('attn.0', 'F32', [1, 2, 3], data)]);
    const v1 = readFileSync(join(dir, 'v1.safetensors'));
    expect(v1.readBigUInt64LE(0)).toBe(64n);
    expect(v1.subarray(8, 72).toString()).toBe(
      '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'.padEnd(64, ' '),
    );
    await writeSafetensors(join(dir, 'v2.safetensors'), []);
    expect([...readFileSync(join(dir, 'v2.safetensors'))]).toEqual([
      8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32,
    ]);
    await writeSafetensors(join(dir, 'v3.safetensors'), [], { framework: 'pt' });
    expect(readFileSync(join(dir, 'v3.safetensors')).subarray(8).toString()).toBe(
      '{"__metadata__":{"framework":"pt"}}     ',
    );
  });

  it('orders by dtype alignment descending, then name bytes, and reports progress per tensor', async () => {
    const progress: WriteProgress[] = [];
    const out = join(dir, 'order.safetensors');
    await writeSafetensors(
      out,
      [
        ref('b', 'U8', [1], new Uint8Array(1)),
        ref('z', 'F64', [1], new Uint8Array(8)),
        ref('a', 'U8', [1], new Uint8Array(1)),
        ref('é', 'F16', [1], new Uint8Array(2)),
        ref('f', 'F16', [1], new Uint8Array(2)),
        ref('10', 'I32', [1], new Uint8Array(4)),
      ],
      undefined,
      { onProgress: (p) => progress.push(p) },
    );
    const header = await readSafetensorsHeader(new BufferSource(readFileSync(out)));
    expect(header.tensors.map((t) => t.name)).toEqual(['z', '10', 'f', 'é', 'a', 'b']);
    expect(progress.map((p) => p.tensor)).toEqual(['z', '10', 'f', 'é', 'a', 'b']);
    expect(progress.at(-1)).toMatchObject({ tensorsDone: 6, tensorsTotal: 6, bytesDone: 18, bytesTotal: 18 });
  });

  it('leaves no file (and no temp file) when a tensor cannot be read', async () => {
    const out = join(dir, 'fails', 'out.safetensors');
    const short: TensorRef = { ...ref('w', 'F32', [4], new Uint8Array(8)), byteLength: 16 };
    const error = await writeSafetensors(out, [ref('ok', 'F32', [1], new Uint8Array(4)), short]).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(FerryError);
    expect(readdirSync(join(dir, 'fails'))).toEqual([]);
  });

  it('refuses duplicate names, the reserved name and non-string metadata before writing', async () => {
    const out = join(dir, 'refused.safetensors');
    const t = ref('w', 'U8', [1], new Uint8Array(1));
    await expect(writeSafetensors(out, [t, t])).rejects.toMatchObject({ code: 'FERRY_BAD_ARGUMENT' });
    await expect(writeSafetensors(out, [{ ...t, name: '__metadata__' }])).rejects.toMatchObject({
      code: 'FERRY_BAD_ARGUMENT',
    });
    await expect(writeSafetensors(out, [t], { n: 1 as unknown as string })).rejects.toMatchObject({
      code: 'FERRY_BAD_ARGUMENT',
    });
    expect(readdirSync(dir)).not.toContain('refused.safetensors');
  });
});
