import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/detect.js';
import { FerryError } from '../../src/errors.js';
import { inspectModel } from '../../src/inspect.js';
import { openModel } from '../../src/open.js';
import { BufferSource } from '../../src/tensor/byte-source.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { readNpyHeaderFrom } from '../../src/numpy/npy-header.js';
import { npyArray } from '../../src/numpy/npy-tensor.js';

const fixture = (name: string) => new URL(`../../../../fixtures/numpy/${name}`, import.meta.url).pathname;
interface ExpectedArray {
  descr: unknown;
  shape: number[];
  fortranOrder: boolean;
  headerVersion: string;
  values?: unknown[];
  sha256?: string;
  itemSize?: number;
}
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as {
  files: Record<string, ExpectedArray>;
  npz: Record<string, Record<string, ExpectedArray>>;
};
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const dense = Object.entries(expected.files).filter(([, e]) => e.sha256 !== undefined);
const opaque = Object.entries(expected.files).filter(([, e]) => e.sha256 === undefined);

describe('.npy written by numpy', () => {
  it.each(dense)('%s: header, and bytes equal to numpy C-order little-endian data', async (name, want) => {
    expect(await detectFormat(fixture(name))).toBe('npy');
    const model = await openModel(fixture(name));
    try {
      expect(model.format).toBe('npy');
      expect(model.details).toMatchObject({ version: want.headerVersion, fortranOrder: want.fortranOrder });
      const [ref] = model.tensors;
      expect(ref!.name).toBe(name.replace(/\.npy$/, ''));
      expect(ref!.shape).toEqual(want.shape);
      expect(ref!.byteOrder === 'big').toBe(String(want.descr).startsWith('>'));
      expect(sha256(await readTensorBytes(ref!))).toBe(want.sha256);
      expect(model.findings).toBeUndefined();
    } finally {
      await model.close();
    }
  });

  it('fortran order is exposed as strides and gathered into C order', async () => {
    const model = await openModel(fixture('fortran-f4.npy'));
    try {
      const [ref] = model.tensors;
      expect(ref!.strides).toEqual([1, 2, 6]);
      const values = new Float32Array(new Uint8Array(await readTensorBytes(ref!)).buffer);
      expect(Array.from(values)).toEqual(expected.files['fortran-f4.npy']!.values);
    } finally {
      await model.close();
    }
  });

  it.each(opaque)('%s: reported as opaque, never loaded', async (name, want) => {
    const report = await inspectModel(fixture(name));
    expect(report.tensors).toEqual([]);
    expect(report.opaque).toHaveLength(1);
    const [entry] = report.opaque!;
    expect(entry!.shape).toEqual(want.shape);
    if (want.descr === '|O') {
      expect(entry!.type).toBe('object');
      expect(report.findings?.map((f) => f.rule)).toEqual(['npy-object-array']);
    } else {
      expect(entry!.byteLength).toBe(want.itemSize! * want.shape.reduce((a, b) => a * b, 1));
      expect(report.findings).toBeUndefined();
    }
    if (Array.isArray(want.descr)) expect(entry!.type).toBe('structured');
  });
});

describe('.npy headers ferry refuses', () => {
  const base = readFileSync(fixture('float32.npy'));
  const withHeader = (header: string, version = 1) => {
    const text = new TextEncoder().encode(header);
    const head = new Uint8Array(version === 1 ? 10 : 12);
    head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
    const view = new DataView(head.buffer);
    if (version === 1) view.setUint16(8, text.length, true);
    else view.setUint32(8, text.length, true);
    const out = new Uint8Array(head.length + text.length + 64);
    out.set(head);
    out.set(text, head.length);
    return new BufferSource(out, 'made.npy');
  };
  const code = async (source: BufferSource) => {
    try {
      npyArray('x', await readNpyHeaderFrom(source), source);
      return 'ok';
    } catch (error) {
      expect(error).toBeInstanceOf(FerryError);
      return (error as FerryError).code;
    }
  };

  it('refuses wrong magic, versions, keys and types', async () => {
    const patched = new Uint8Array(base);
    patched[6] = 4;
    expect(await code(new BufferSource(patched))).toBe('FERRY_NPY_HEADER');
    expect(await code(withHeader("{'descr': '<f4', 'shape': (2,)}"))).toBe('FERRY_NPY_HEADER');
    expect(await code(withHeader("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}"))).toBe(
      'FERRY_NPY_HEADER',
    );
    expect(await code(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}"))).toBe(
      'FERRY_NPY_HEADER',
    );
    expect(await code(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}"))).toBe(
      'FERRY_NPY_HEADER',
    );
    expect(await code(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"))).toBe(
      'FERRY_NPY_HEADER',
    );
    expect(await code(withHeader("{'descr': 3, 'fortran_order': False, 'shape': (2,)}"))).toBe(
      'FERRY_NPY_DESCR',
    );
  });

  it('checks the data size against the file before anything is read', async () => {
    expect(await code(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1000,)}"))).toBe(
      'FERRY_TRUNCATED',
    );
    expect(
      await code(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}")),
    ).toBe('FERRY_TENSOR_SHAPE');
    expect(await code(withHeader("{'descr': '<U9', 'fortran_order': False, 'shape': (1000,)}"))).toBe(
      'FERRY_TRUNCATED',
    );
    expect(await code(new BufferSource(base.subarray(0, 60)))).toBe('FERRY_TRUNCATED');
  });

  it('reads v2 headers and reports trailing bytes', async () => {
    expect(await code(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 2))).toBe('ok');
    const source = withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}");
    const array = npyArray('x', await readNpyHeaderFrom(source), source);
    expect(array.findings.map((f) => f.rule)).toEqual(['npy-trailing-data']);
  });

  it('limits the header length', async () => {
    const huge = new Uint8Array(16);
    huge.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
    new DataView(huge.buffer).setUint32(8, 0xffffffff, true);
    expect(await code(new BufferSource(huge))).toBe('FERRY_LIMIT');
  });
});

describe('.npy header text, as numpy decodes it', () => {
  const raw = (text: Buffer, version: number) => {
    const head = Buffer.alloc(version === 1 ? 10 : 12);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
    if (version === 1) head.writeUInt16LE(text.length, 8);
    else head.writeUInt32LE(text.length, 8);
    return new BufferSource(Buffer.concat([head, text, Buffer.alloc(64)]), 'made.npy');
  };
  const header = "{'descr': [('\\x80', '<f4')], 'fortran_order': False, 'shape': (2L,)}";

  it('reads versions 1.0 and 2.0 as ISO-8859-1 byte for byte, with Python 2 longs', async () => {
    for (const version of [1, 2]) {
      const read = await readNpyHeaderFrom(
        raw(Buffer.from(header.replace('\\x80', '\x80'), 'latin1'), version),
      );
      expect(read.shape).toEqual([2]);
      const numpy = read.descr.numpy;
      // windows-1252 (TextDecoder's 'latin1') would make byte 0x80 a euro sign.
      expect(numpy.kind === 'struct' && numpy.fields[0]!.name).toBe('\x80');
    }
  });

  it('reads version 3.0 as strict UTF-8: no L suffix, a BOM is not skipped', async () => {
    await expect(readNpyHeaderFrom(raw(Buffer.from(header, 'utf8'), 3))).rejects.toThrow(
      /invalid number literal/,
    );
    const ok = header.replace('2L', '2');
    expect((await readNpyHeaderFrom(raw(Buffer.from(ok, 'utf8'), 3))).shape).toEqual([2]);
    await expect(readNpyHeaderFrom(raw(Buffer.from(`\ufeff${ok}`, 'utf8'), 3))).rejects.toThrow(
      /FERRY_NPY_HEADER|npy header at byte 12/,
    );
  });
});
