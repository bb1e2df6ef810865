import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/detect.js';
import { openModel } from '../../src/open.js';
import { BufferSource, FileSource } from '../../src/tensor/byte-source.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { inflateRange, openMember, openZip } from '../../src/zip/index.js';
import { npyHandler } from '../../src/numpy/npy-handler.js';
import { npzHandler, openNpz } from '../../src/numpy/npz-handler.js';

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

/** A one-member zip (APPNOTE 4.3) whose directory may lie about the inflated size. */
function oneMemberZip(name: string, data: Uint8Array, method: 0 | 8, claimedSize: number): Uint8Array {
  const body = method === 8 ? deflateRawSync(data) : data;
  const fileName = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(method, 8);
  local.writeUInt32LE(body.length, 18);
  local.writeUInt32LE(claimedSize, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(method, 10);
  central.writeUInt32LE(body.length, 20);
  central.writeUInt32LE(claimedSize, 24);
  central.writeUInt16LE(fileName.length, 28);
  const cdOffset = 30 + fileName.length + body.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + fileName.length, 12);
  end.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, fileName, body, central, fileName, end]);
}

describe('.npz members that lie', () => {
  it('a deflated member that inflates to fewer bytes than its entry claims is FERRY_TRUNCATED', async () => {
    const preamble = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0x40]);
    const zip = oneMemberZip('a.npy', preamble, 8, 200);
    await expect(openNpz('lie.npz', new BufferSource(zip, 'lie.npz'))).rejects.toMatchObject({
      code: 'FERRY_TRUNCATED',
    });
  });

  it('a deflated member whose data inflates short fails when read, with a typed error', async () => {
    const real = readFileSync(fixture('float32.npy'));
    const zip = oneMemberZip('w.npy', real, 8, real.length + 64);
    // Members inflate per read (a bomb must not be inflated whole to read a header): the lie
    // shows when the missing bytes are read, as a typed error.
    const archive = await openZip(new BufferSource(zip, 'short.npz'));
    const member = await openMember(archive, archive.entries[0]!);
    await expect(member.read(0, member.size)).rejects.toMatchObject({ code: 'FERRY_TRUNCATED' });
  });
});

describe('npz headers through the bounded inflater', () => {
  it('inflates only the bytes asked for, even from a bomb', async () => {
    const bomb = oneMemberZip('a.npy', new Uint8Array(64 * 1024 * 1024), 8, 64 * 1024 * 1024);
    const zip = await openZip(new BufferSource(bomb, 'bomb.npz'));
    expect((await inflateRange(zip, zip.entries[0]!, 0, 100)).length).toBe(100);
    const hello = await openZip(new BufferSource(oneMemberZip('h', Buffer.from('hello'), 8, 5), 'h.zip'));
    expect(Buffer.from(await inflateRange(hello, hello.entries[0]!, 0, 5)).toString()).toBe('hello');
  });
});
