import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { BufferSource, type ByteSource } from '../../src/tensor/byte-source.js';
import { DTYPES } from '../../src/tensor/dtype.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { decodeValues } from '../../src/tensor/values.js';
import { readSafetensorsHeader, safetensorsRefs } from '../../src/safetensors/read.js';
import { buildFile, FIXTURES } from '../safetensors-files.helper.js';

const FILES = [
  'all_dtypes.safetensors',
  'empty_and_scalar.safetensors',
  'small.safetensors',
  'no_tensors.safetensors',
].map((f) => new Uint8Array(readFileSync(join(FIXTURES, f))));

/** A real source that fails the test if any single read asks for more than the file holds. */
class BoundedSource implements ByteSource {
  readBytes = 0;
  constructor(private readonly inner: BufferSource) {}
  get name() {
    return this.inner.name;
  }
  get size() {
    return this.inner.size;
  }
  read(offset: number, length: number) {
    if (length > this.inner.size)
      throw new Error(`read of ${length} bytes from a ${this.inner.size}-byte file`);
    this.readBytes += length;
    return this.inner.read(offset, length);
  }
  close() {
    return this.inner.close();
  }
}

/** Opens and reads every tensor; only FerryError may come out, and reads stay within the file. */
async function readEverything(bytes: Uint8Array): Promise<void> {
  const source = new BoundedSource(new BufferSource(bytes, 'fuzz.safetensors'));
  try {
    const header = await readSafetensorsHeader(source);
    for (const ref of safetensorsRefs(header, source)) decodeValues(ref.dtype, await readTensorBytes(ref));
    // Header once plus each tensor once: never more than the file.
    expect(source.readBytes).toBeLessThanOrEqual(bytes.length);
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
  }
}

const runs = { numRuns: 300 };

describe('safetensors reader fuzz: only FerryError, no hang, reads bounded by the file size', () => {
  it('random JSON headers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), fc.nat(64), async (value, data) => {
        await readEverything(buildFile(JSON.stringify(value), data));
      }),
      runs,
    );
  });

  it('random tensor tables (dtypes, shapes, offsets, metadata, padding)', async () => {
    const dim = fc.oneof(fc.nat(6), fc.constantFrom(0, 2 ** 31, 2 ** 53, -1, 1.5));
    const offset = fc.oneof(fc.nat(100), fc.bigInt({ min: 0n, max: 1n << 65n }));
    const entry = fc.record(
      {
        dtype: fc.oneof(fc.constantFrom(...DTYPES), fc.string()),
        shape: fc.array(dim, { maxLength: 4 }),
        data_offsets: fc.array(offset, { minLength: 1, maxLength: 3 }),
      },
      { requiredKeys: [] },
    );
    const header = fc
      .tuple(
        fc.dictionary(fc.string({ maxLength: 6 }), entry, { maxKeys: 5 }),
        fc.option(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())), { nil: undefined }),
        fc.nat(9),
      )
      .map(([tensors, metadata, pad]) => {
        const parts = Object.entries(tensors).map(
          ([k, v]) =>
            `${JSON.stringify(k)}:${JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `@${x}@` : x)).replace(/"@(\d+)@"/g, '$1')}`,
        );
        if (metadata) parts.unshift(`"__metadata__":${JSON.stringify(metadata)}`);
        return `{${parts.join(',')}}${' '.repeat(pad)}`;
      });
    await fc.assert(
      fc.asyncProperty(header, fc.nat(200), async (text, data) => {
        await readEverything(buildFile(text, data));
      }),
      runs,
    );
  });

  it('bit flips, truncations, length lies and splices of the fixtures', async () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({
        kind: fc.constant('length' as const),
        value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      }),
      fc.record({ kind: fc.constant('lengthNear' as const), delta: fc.integer({ min: -16, max: 16 }) }),
      fc.record({
        kind: fc.constant('splice' as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ maxLength: 16 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat(FILES.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        async (index, mutations) => {
          let bytes = new Uint8Array(FILES[index]!);
          for (const m of mutations) {
            if (m.kind === 'flip' && bytes.length > 0) bytes[m.at % bytes.length]! ^= 1 << m.bit;
            if (m.kind === 'truncate') bytes = bytes.slice(0, m.at % (bytes.length + 1));
            if (m.kind === 'length' && bytes.length >= 8)
              new DataView(bytes.buffer).setBigUint64(0, m.value, true);
            if (m.kind === 'lengthNear' && bytes.length >= 8) {
              const view = new DataView(bytes.buffer);
              const next = view.getBigUint64(0, true) + BigInt(m.delta);
              view.setBigUint64(0, next < 0n ? 0n : next, true);
            }
            if (m.kind === 'splice') {
              const at = m.at % (bytes.length + 1);
              bytes = new Uint8Array([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)]);
            }
          }
          await readEverything(bytes);
        },
      ),
      { numRuns: 500 },
    );
  });
});
