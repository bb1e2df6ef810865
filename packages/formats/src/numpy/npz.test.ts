import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../detect.js';
import { openModel } from '../open.js';
import { BufferSource, FileSource } from '../tensor/byte-source.js';
import { readTensorBytes } from '../tensor/tensor-ref.js';
import { inflatePrefix } from './inflate-prefix.js';
import { npyHandler } from './npy-handler.js';
import { npzHandler, openNpz } from './npz-handler.js';

const fixture = (name: string) => new URL(`../../../../fixtures/numpy/${name}`, import.meta.url).pathname;
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as {
  npz: Record<string, Record<string, { shape: number[]; sha256: string; descr: string }>>;
};
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('.npz written by numpy', () => {
  it.each(Object.entries(expected.npz))(
    '%s: every member as a tensor named after it',
    async (name, members) => {
      expect(await detectFormat(fixture(name))).toBe('npz');
      const model = await openModel(fixture(name));
      try {
        expect(model.format).toBe('npz');
        expect(model.tensors.map((t) => t.name).sort()).toEqual(Object.keys(members).sort());
        for (const ref of model.tensors) {
          const want = members[ref.name]!;
          expect(ref.shape).toEqual(want.shape);
          expect(sha256(await readTensorBytes(ref)), ref.name).toBe(want.sha256);
        }
        expect(model.details).toMatchObject({
          members: Object.keys(members).length,
          compressedMembers: name.includes('compressed') ? Object.keys(members).length : 0,
        });
      } finally {
        await model.close();
      }
    },
  );

  it('opens from any byte source (a buffer here), inflating members only when read', async () => {
    const model = await openNpz(
      'mem.npz',
      new BufferSource(readFileSync(fixture('savez-compressed.npz')), 'mem.npz'),
    );
    expect(model.tensors.map((t) => t.name)).toEqual(['weight', 'bias', 'scale', 'fortran']);
    const fortran = model.tensors[3]!;
    expect(fortran.strides).toEqual([1, 2]);
    expect(sha256(await readTensorBytes(fortran))).toBe(
      expected.npz['savez-compressed.npz']!.fortran!.sha256,
    );
  });

  it.each(['torch-zip.pt', 'mixed.zip'])('does not claim %s (a zip that is not all .npy)', async (name) => {
    const source = await FileSource.open(fixture(name));
    try {
      const head = await source.read(0, Math.min(source.size, 4096));
      const probe = { path: name, isDirectory: false, size: source.size, head, entries: [], source };
      expect(await npzHandler.detect(probe)).toBe(false);
      expect(await npyHandler.detect(probe)).toBe(false);
    } finally {
      await source.close();
    }
  });

  it('is not claimed for .npy or GGUF', async () => {
    expect(await detectFormat(fixture('float32.npy'))).toBe('npy');
    expect(
      await detectFormat(new URL('../../../../fixtures/gguf/tiny-v3-le.gguf', import.meta.url).pathname),
    ).toBe('gguf');
  });
});

describe('inflatePrefix', () => {
  it('inflates only the bytes asked for, even from a bomb', async () => {
    const bomb = deflateRawSync(new Uint8Array(64 * 1024 * 1024));
    const prefix = await inflatePrefix(bomb, 100);
    expect(prefix.length).toBe(100);
    const whole = await inflatePrefix(deflateRawSync(Buffer.from('hello')), 100);
    expect(Buffer.from(whole).toString()).toBe('hello');
    const cut = deflateRawSync(Buffer.from('x'.repeat(1000) + 'y'.repeat(1000)));
    expect((await inflatePrefix(cut.subarray(0, cut.length - 2), 10)).length).toBe(10);
  });
});
