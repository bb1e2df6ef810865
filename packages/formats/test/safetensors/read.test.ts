import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/detect.js';
import { openModel } from '../../src/open.js';
import { BufferSource, type ByteSource } from '../../src/tensor/byte-source.js';
import { dtypeSize } from '../../src/tensor/dtype.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { decodeValues } from '../../src/tensor/values.js';
import { MAX_HEADER_SIZE } from '../../src/safetensors/header.js';
import { readSafetensorsHeader, safetensorsRefs, validateSafetensors } from '../../src/safetensors/read.js';
import { buildFile, FIXTURES } from '../safetensors-files.helper.js';

interface ExpectedFile {
  size: number;
  headerLength: number;
  metadata: Record<string, string> | null;
  order: string[];
  tensors: Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number]; values: (number | string)[] }
  >;
}
const EXPECTED = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<
  string,
  ExpectedFile
>;

const fromJson = (v: number | string) =>
  v === 'nan' ? Number.NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number);

/** A real ByteSource that records the ranges asked of it. */
class RecordingSource implements ByteSource {
  readonly reads: [number, number][] = [];
  constructor(private readonly inner: BufferSource) {}
  get name() {
    return this.inner.name;
  }
  get size() {
    return this.inner.size;
  }
  read(offset: number, length: number) {
    this.reads.push([offset, length]);
    return this.inner.read(offset, length);
  }
  close() {
    return this.inner.close();
  }
}

describe('safetensors reader on the fixtures (written by fixtures/make/safetensors_files.py)', () => {
  it.each(Object.keys(EXPECTED))('%s: detected, header, dtypes, shapes, offsets and values', async (file) => {
    const expected = EXPECTED[file]!;
    const path = join(FIXTURES, file);
    expect(await detectFormat(path)).toBe('safetensors');
    const model = await openModel(path);
    try {
      expect(model.format).toBe('safetensors');
      expect(model.metadata).toEqual(expected.metadata ?? {});
      expect(model.tensors.map((t) => t.name)).toEqual(expected.order);
      for (const ref of model.tensors) {
        const want = expected.tensors[ref.name]!;
        expect(ref.dtype).toBe(want.dtype);
        expect(ref.shape).toEqual(want.shape);
        expect(ref.offset).toBe(8 + expected.headerLength + want.data_offsets[0]);
        const values = Array.from(decodeValues(ref.dtype, await readTensorBytes(ref)));
        expect(values).toEqual(want.values.map(fromJson));
        // Every tensor's data is aligned to its element size, as the reference writer intends.
        expect((ref.offset - 8 - expected.headerLength) % dtypeSize(ref.dtype)).toBe(0);
      }
    } finally {
      await model.close();
    }
  });

  it('reading one tensor reads the header and that tensor only', async () => {
    const bytes = readFileSync(join(FIXTURES, 'all_dtypes.safetensors'));
    const source = new RecordingSource(new BufferSource(bytes, 'all_dtypes.safetensors'));
    const header = await readSafetensorsHeader(source);
    expect(source.reads).toEqual([
      [0, 8],
      [8, header.headerLength],
    ]);
    const ref = safetensorsRefs(header, source).find((t) => t.name === 'f64')!;
    await readTensorBytes(ref);
    expect(source.reads[2]).toEqual([ref.offset, 24]);
    expect(source.reads).toHaveLength(3);
  });

  it('validateSafetensors answers valid files and names the broken rule of bad ones', async () => {
    const good = await validateSafetensors(join(FIXTURES, 'small.safetensors'));
    expect(good.valid).toBe(true);
    const badPath = join(FIXTURES, 'expected.json');
    const bad = await validateSafetensors(badPath);
    expect(bad).toMatchObject({ valid: false, code: 'FERRY_SAFETENSORS_HEADER_TOO_LARGE' });
    const missing = await validateSafetensors(join(FIXTURES, 'nope.safetensors'));
    expect(missing).toMatchObject({ valid: false, code: 'FERRY_NOT_FOUND' });
  });

  it('claims a truncated file, so opening it names the broken rule', async () => {
    const path = join(tmpdir(), `ferry-truncated-${process.pid}.safetensors`);
    writeFileSync(path, readFileSync(join(FIXTURES, 'small.safetensors')).subarray(0, 100));
    try {
      await expect(openModel(path)).rejects.toMatchObject({ code: 'FERRY_SAFETENSORS_HEADER_LENGTH' });
    } finally {
      rmSync(path);
    }
  });

  it('does not claim files that only start like safetensors', async () => {
    const { looksLikeSafetensors } = await import('../../src/safetensors/read.js');
    const probe = (head: Uint8Array) => ({
      path: 'x',
      isDirectory: false,
      size: head.length,
      head,
      entries: [],
      source: null,
    });
    expect(looksLikeSafetensors(probe(buildFile('{}')))).toBe(true);
    expect(looksLikeSafetensors(probe(buildFile('[]')))).toBe(false);
    expect(looksLikeSafetensors(probe(buildFile('{}', 0, BigInt(MAX_HEADER_SIZE) + 1n)))).toBe(false);
    expect(looksLikeSafetensors(probe(buildFile('{}', 0, 0n)))).toBe(false);
    expect(looksLikeSafetensors(probe(new Uint8Array(4)))).toBe(false);
  });
});
