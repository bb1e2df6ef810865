import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { BufferSource } from '../../src/tensor/byte-source.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { modelFromGguf } from '../../src/gguf/gguf-handler.js';
import { readGguf } from '../../src/gguf/read-gguf.js';

const fixtures = ['tiny-v3-le.gguf', 'tiny-v3-be.gguf', 'tiny-v2-le.gguf'].map((name) =>
  readFileSync(new URL(`../../../../fixtures/gguf/${name}`, import.meta.url)),
);

/** Parses and reads every tensor; anything but success or a FerryError fails the property. */
async function parseAll(bytes: Uint8Array): Promise<void> {
  const source = new BufferSource(bytes, 'fuzz.gguf');
  try {
    const model = modelFromGguf('fuzz.gguf', await readGguf(source), source);
    for (const ref of model.tensors) await readTensorBytes(ref);
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
  }
}

const mutation = fc.record({
  file: fc.nat(fixtures.length - 1),
  flips: fc.array(fc.record({ at: fc.nat(), bit: fc.nat(7) }), { minLength: 1, maxLength: 8 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  splice: fc.option(fc.record({ from: fc.nat(), to: fc.nat(), length: fc.nat(64) }), { nil: undefined }),
});

describe('GGUF fuzz: only FerryError comes out', () => {
  it('bit flips, truncations and splices of the gguf-py fixtures', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async ({ file, flips, cut, splice }) => {
        const original = fixtures[file]!;
        let bytes = new Uint8Array(original);
        for (const { at, bit } of flips) bytes[at % bytes.length]! ^= 1 << bit;
        if (splice) {
          const from = splice.from % bytes.length;
          const to = splice.to % bytes.length;
          bytes.copyWithin(to, from, Math.min(from + splice.length, bytes.length));
        }
        if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
        await parseAll(bytes);
      }),
      { numRuns: 400 },
    );
  });

  it('flips in the header bytes specifically (counts, lengths, types)', async () => {
    const le = fixtures[0]!;
    await fc.assert(
      fc.asyncProperty(fc.nat(2624), fc.nat(255), async (at, value) => {
        const bytes = new Uint8Array(le);
        bytes[at] = value;
        await parseAll(bytes);
      }),
      { numRuns: 400 },
    );
  });

  it('random bytes behind a valid magic and version', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(2, 3),
        fc.boolean(),
        fc.uint8Array({ maxLength: 512 }),
        async (v, little, tail) => {
          const head = new Uint8Array(8);
          head.set([0x47, 0x47, 0x55, 0x46]);
          new DataView(head.buffer).setUint32(4, v, little);
          const bytes = new Uint8Array(8 + tail.length);
          bytes.set(head);
          bytes.set(tail, 8);
          await parseAll(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('huge declared lengths fail fast without allocating them', async () => {
    const le = new Uint8Array(fixtures[0]!);
    // The first key's length field sits right after the 24-byte header.
    new DataView(le.buffer).setBigUint64(24, 2n ** 62n, true);
    await expect(readGguf(new BufferSource(le))).rejects.toBeInstanceOf(FerryError);
  });
});
