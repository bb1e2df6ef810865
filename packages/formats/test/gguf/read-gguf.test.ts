import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { BufferSource, FileSource } from '../../src/tensor/byte-source.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { GGML_TYPES } from '../../src/gguf/ggml-types.js';
import { modelFromGguf } from '../../src/gguf/gguf-handler.js';
import { GgufBuilder } from '../gguf-builder.helper.js';
import { MAX_ARRAY_DEPTH } from '../../src/gguf/limits.js';
import { type GgufArray, type GgufValue, readGguf } from '../../src/gguf/read-gguf.js';

const dir = new URL('../../../../fixtures/gguf/', import.meta.url);
const fixture = (name: string) => new URL(name, dir).pathname;
interface Expected {
  metadata: Record<string, { type: string; value: unknown }>;
  tensors: {
    name: string;
    ggmlType: string;
    shape: number[];
    byteLength: number;
    sha256: string;
    values?: unknown[];
  }[];
  files: Record<
    string,
    {
      version: number;
      byteOrder: 'little' | 'big';
      alignment: number;
      readerOffsets?: Record<string, number>;
    }
  >;
}
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as Expected;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Compares a parsed value with what gguf-py was given (JSON: big ints as strings, floats as doubles). */
function plain(value: GgufValue): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object') return (value as GgufArray).values.map((v) => plain(v));
  return value;
}
function want(type: string, value: unknown): unknown {
  if (type === 'FLOAT32' && typeof value === 'number') return Math.fround(value);
  if (Array.isArray(value)) {
    return value.map((v) =>
      typeof v === 'number' && !Number.isInteger(v) ? Math.fround(v) : Array.isArray(v) ? want('', v) : v,
    );
  }
  return value;
}

async function expectFerryError(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FerryError);
  expect((error as FerryError).code).toBe(code);
  return error as FerryError;
}

describe('readGguf on gguf-py files', () => {
  it.each(Object.entries(expected.files))('%s: header, metadata and tensor infos', async (name, file) => {
    const source = await FileSource.open(fixture(name));
    try {
      const gguf = await readGguf(source);
      expect(gguf.version).toBe(file.version);
      expect(gguf.byteOrder).toBe(file.byteOrder);
      expect(gguf.alignment).toBe(file.alignment);
      expect(gguf.dataOffset % file.alignment).toBe(0);
      expect(gguf.gaps).toEqual([]);
      const keys = gguf.metadata.map((kv) => kv.key).filter((k) => k !== 'general.alignment');
      expect(keys).toEqual(Object.keys(expected.metadata));
      for (const kv of gguf.metadata) {
        if (kv.key === 'general.alignment') {
          expect(kv.value).toBe(file.alignment);
          continue;
        }
        const exp = expected.metadata[kv.key]!;
        expect(kv.type).toBe(exp.type);
        expect(plain(kv.value)).toEqual(want(exp.type, exp.value));
      }
      const nested = gguf.metadata.find((kv) => kv.key === 'ferry.nested')!.value as GgufArray;
      expect(nested.elementType).toBe('ARRAY');
      expect((nested.values[1] as GgufArray).elementType).toBe('INT32');
      expect(gguf.tensors.map((t) => [t.name, t.type.name, t.shape, t.byteLength])).toEqual(
        expected.tensors.map((t) => [t.name, t.ggmlType, t.shape, t.byteLength]),
      );
      for (const t of gguf.tensors) expect(t.dims).toEqual([...t.shape].reverse());
      // gguf-py's GGUFReader, run by the fixture script, located every tensor at the same byte.
      if (file.readerOffsets) {
        expect(Object.fromEntries(gguf.tensors.map((t) => [t.name, t.offset]))).toEqual(file.readerOffsets);
      }
    } finally {
      await source.close();
    }
  });

  it.each(Object.keys(expected.files))('%s: every tensor reads back as gguf-py wrote it', async (name) => {
    const source = await FileSource.open(fixture(name));
    const model = modelFromGguf(name, await readGguf(source), source);
    try {
      for (const want of expected.tensors) {
        const ref = model.tensors.find((t) => t.name === want.name);
        if (ref) {
          const bytes = await readTensorBytes(ref);
          expect(sha256(bytes), want.name).toBe(want.sha256);
          if (ref.dtype === 'F32')
            expect(Array.from(new Float32Array(new Uint8Array(bytes).buffer))).toEqual(want.values);
        } else {
          // Quantized: the blocks are bytes with no byte order; compare them raw.
          const opaque = model.opaque!.find((t) => t.name === want.name)!;
          expect(opaque.type).toBe(want.ggmlType);
          const info = (await readGguf(source)).tensors.find((t) => t.name === want.name)!;
          expect(sha256(await source.read(info.offset, info.byteLength))).toBe(want.sha256);
        }
      }
    } finally {
      await model.close();
    }
  });

  it('the big-endian file holds the same content as the little-endian one', async () => {
    const le = await readGguf(new BufferSource(readFileSync(fixture('tiny-v3-le.gguf'))));
    const be = await readGguf(new BufferSource(readFileSync(fixture('tiny-v3-be.gguf'))));
    const strip = (f: typeof le) => f.metadata.filter((kv) => kv.key !== 'general.alignment');
    expect(strip(be)).toEqual(strip(le));
    expect(be.tensors.map((t) => [t.name, t.shape, t.type])).toEqual(
      le.tensors.map((t) => [t.name, t.shape, t.type]),
    );
  });
});

describe('readGguf refuses what the spec or its limits forbid', () => {
  const le = readFileSync(fixture('tiny-v3-le.gguf'));
  const patched = (at: number, bytes: number[]) => {
    const copy = new Uint8Array(le);
    copy.set(bytes, at);
    return new BufferSource(copy, 'patched.gguf');
  };

  it('refuses version 1 clearly and unknown versions', async () => {
    const error = await expectFerryError(readGguf(patched(4, [1, 0, 0, 0])), 'FERRY_UNSUPPORTED');
    expect(error.message).toContain('GGUF version 1');
    await expectFerryError(readGguf(patched(4, [4, 0, 0, 0])), 'FERRY_GGUF_STRUCTURE');
  });

  it('refuses a file that is not GGUF', async () => {
    await expectFerryError(readGguf(patched(0, [0x47, 0x47, 0x4d, 0x4c])), 'FERRY_GGUF_STRUCTURE');
  });

  it('refuses counts the file cannot hold before looping over them', async () => {
    const bytes = new GgufBuilder().header(3, 0, 2n ** 40n).build();
    await expectFerryError(readGguf(new BufferSource(bytes)), 'FERRY_LIMIT');
    const fits = new GgufBuilder().header(3, 1000, 0).build();
    await expectFerryError(readGguf(new BufferSource(fits)), 'FERRY_GGUF_STRUCTURE');
  });

  it('refuses a truncated file with a typed error naming the offset', async () => {
    for (const cut of [7, 30, 200, 1500, le.length - 21]) {
      const error = await readGguf(new BufferSource(le.subarray(0, cut), 'cut.gguf')).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FerryError);
      // Short cuts fail the count-versus-size check, long ones a tensor's range check.
      expect(['FERRY_TRUNCATED', 'FERRY_GGUF_STRUCTURE', 'FERRY_GGUF_TENSOR']).toContain(
        (error as FerryError).code,
      );
      expect((error as FerryError).message).toContain('cut.gguf');
    }
  });

  it('limits array nesting', async () => {
    const b = new GgufBuilder().header(3, 0, 1).string('deep').u32(9);
    for (let i = 0; i < MAX_ARRAY_DEPTH + 1; i++) b.u32(9).u64(1);
    b.u32(4).u64(1).u32(7);
    const error = await expectFerryError(readGguf(new BufferSource(b.build())), 'FERRY_LIMIT');
    expect(error.message).toContain('CWE-674');
  });

  it('refuses an array longer than the bytes left', async () => {
    const bytes = new GgufBuilder().header(3, 0, 1).string('a').u32(9).u32(8).u64(1_000_000).build();
    await expectFerryError(readGguf(new BufferSource(bytes)), 'FERRY_GGUF_STRUCTURE');
  });

  it('refuses duplicate keys, bad alignment, unknown value and ggml types', async () => {
    const dup = new GgufBuilder().header(3, 0, 2).string('k').u32(4).u32(1).string('k').u32(4).u32(2).build();
    await expectFerryError(readGguf(new BufferSource(dup)), 'FERRY_GGUF_STRUCTURE');
    const align = new GgufBuilder().header(3, 0, 1).string('general.alignment').u32(4).u32(48).build();
    await expectFerryError(readGguf(new BufferSource(align)), 'FERRY_GGUF_STRUCTURE');
    const alignType = new GgufBuilder().header(3, 0, 1).string('general.alignment').u32(10).u64(64).build();
    await expectFerryError(readGguf(new BufferSource(alignType)), 'FERRY_GGUF_STRUCTURE');
    const vtype = new GgufBuilder().header(3, 0, 1).string('k').u32(13).u32(0).build();
    await expectFerryError(readGguf(new BufferSource(vtype)), 'FERRY_GGUF_STRUCTURE');
    const gtype = new GgufBuilder()
      .header(3, 1, 0)
      .string('t')
      .u32(1)
      .u64(4)
      .u32(99)
      .u64(0)
      .pad(32)
      .bytes(new Uint8Array(64))
      .build();
    await expectFerryError(readGguf(new BufferSource(gtype)), 'FERRY_GGUF_TENSOR');
  });

  it('checks every tensor range: past the end, misaligned, overlapping, partial blocks', async () => {
    const tensor = (name: string, n: number, type: number, offset: number) => (b: GgufBuilder) =>
      b.string(name).u32(1).u64(n).u32(type).u64(offset);
    const file = (...infos: ((b: GgufBuilder) => GgufBuilder)[]) => {
      const b = new GgufBuilder().header(3, infos.length, 0);
      for (const info of infos) info(b);
      return new BufferSource(b.pad(32).bytes(new Uint8Array(64)).build(), 't.gguf');
    };
    await expectFerryError(readGguf(file(tensor('a', 32, 0, 0))), 'FERRY_GGUF_TENSOR'); // 128 bytes > 64
    await expectFerryError(readGguf(file(tensor('a', 4, 0, 8))), 'FERRY_GGUF_TENSOR'); // misaligned
    await expectFerryError(readGguf(file(tensor('a', 8, 0, 0), tensor('b', 4, 0, 0))), 'FERRY_GGUF_TENSOR');
    await expectFerryError(readGguf(file(tensor('a', 16, 8, 0))), 'FERRY_GGUF_TENSOR'); // Q8_0 row of 16
    await expectFerryError(readGguf(file(tensor('a', 4, 0, 0), tensor('a', 4, 0, 32))), 'FERRY_GGUF_TENSOR');
    const gap = await readGguf(file(tensor('a', 4, 0, 32)));
    expect(gap.gaps).toEqual([{ offset: gap.dataOffset, bytes: 32 }]);
  });

  it('reads a v2 file the spec way and a big-endian synthetic header', async () => {
    const be = new GgufBuilder(false).header(3, 1, 1).string('general.alignment').u32(4).u32(32);
    be.string('w').u32(2).u64(2).u64(3).u32(0).u64(0).pad(32);
    const data = new DataView(new ArrayBuffer(24));
    for (let i = 0; i < 6; i++) data.setFloat32(i * 4, i + 0.5, false);
    const file = await readGguf(new BufferSource(be.bytes(new Uint8Array(data.buffer)).build()));
    expect(file.byteOrder).toBe('big');
    expect(file.tensors[0]!.shape).toEqual([3, 2]);
  });
});

describe('ggml type table', () => {
  it('agrees with gguf-py GGML_QUANT_SIZES for the types in the fixtures and knows every current type', () => {
    expect(GGML_TYPES.get(8)).toMatchObject({ name: 'Q8_0', blockSize: 32, typeSize: 34, dtype: undefined });
    expect(GGML_TYPES.get(2)).toMatchObject({ name: 'Q4_0', blockSize: 32, typeSize: 18 });
    expect(GGML_TYPES.get(12)).toMatchObject({ name: 'Q4_K', blockSize: 256, typeSize: 144 });
    expect(GGML_TYPES.get(14)).toMatchObject({ name: 'Q6_K', blockSize: 256, typeSize: 210 });
    expect(GGML_TYPES.get(30)).toMatchObject({ name: 'BF16', dtype: 'BF16' });
    for (const [code, type] of GGML_TYPES) {
      expect(type.code).toBe(code);
      expect(type.blockSize === 1).toBe(type.dtype !== undefined);
    }
  });
});

describe('the data offset of a file with no tensors (issue #22.5)', () => {
  it('is where the tensor infos end, as llama.cpp reports it, never past the end of the file', async () => {
    // One string kv: 24 bytes of header + 8 + 3 (key) + 4 (type) + 8 + 2 (value) = 49 bytes,
    // not a multiple of 32; llama.cpp seeks to the aligned offset only when n_tensors > 0.
    const bytes = new GgufBuilder().header(3, 0, 1).string('key').u32(8).string('ab').build();
    const gguf = await readGguf(new BufferSource(bytes, 'empty.gguf'));
    expect(gguf.tensors).toEqual([]);
    expect(gguf.dataOffset).toBe(bytes.length);
    expect(gguf.dataOffset).toBeLessThanOrEqual(bytes.length);
    // With a tensor the data section starts at the next multiple of the alignment (GGUF spec).
    const one = new GgufBuilder().header(3, 1, 0).string('t').u32(1).u64(1).u32(0).u64(0).pad(32);
    const withTensor = one.bytes([0, 0, 128, 63]).build();
    const read = await readGguf(new BufferSource(withTensor, 'one.gguf'));
    expect(read.dataOffset % 32).toBe(0);
    expect(read.dataOffset).toBe(withTensor.length - 4);
  });
});
