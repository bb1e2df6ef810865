import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { BufferSource } from '../../src/tensor/byte-source.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';
import { readNpyHeaderFrom } from '../../src/numpy/npy-header.js';
import { npyArray } from '../../src/numpy/npy-tensor.js';
import { openNpz } from '../../src/numpy/npz-handler.js';
import { parsePyLiteral } from '../../src/numpy/py-literal.js';

const dir = new URL('../../../../fixtures/numpy/', import.meta.url);
const npys = readdirSync(dir)
  .filter((name) => name.endsWith('.npy'))
  .map((name) => readFileSync(new URL(name, dir)));
const npzs = ['savez.npz', 'savez-compressed.npz'].map((name) => readFileSync(new URL(name, dir)));

async function onlyFerryErrors(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
  }
}

const parseNpy = (bytes: Uint8Array) =>
  onlyFerryErrors(async () => {
    const source = new BufferSource(bytes, 'fuzz.npy');
    const array = npyArray('x', await readNpyHeaderFrom(source), source);
    if (array.tensor) await readTensorBytes(array.tensor);
  });
const parseNpz = (bytes: Uint8Array) =>
  onlyFerryErrors(async () => {
    const model = await openNpz('fuzz.npz', new BufferSource(bytes, 'fuzz.npz'));
    for (const ref of model.tensors) await readTensorBytes(ref);
  });

const mutate = (files: readonly Uint8Array[]) =>
  fc
    .record({
      file: fc.nat(files.length - 1),
      flips: fc.array(fc.record({ at: fc.nat(), value: fc.nat(255) }), { minLength: 1, maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      splice: fc.option(fc.record({ from: fc.nat(), to: fc.nat(), length: fc.nat(48) }), { nil: undefined }),
    })
    .map(({ file, flips, cut, splice }) => {
      let bytes = new Uint8Array(files[file]!);
      for (const { at, value } of flips) bytes[at % bytes.length] = value;
      if (splice) {
        const from = splice.from % bytes.length;
        bytes.copyWithin(splice.to % bytes.length, from, Math.min(from + splice.length, bytes.length));
      }
      if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
      return bytes;
    });

describe('NumPy fuzz: only FerryError comes out', () => {
  it('mutations of numpy-written .npy files', async () => {
    await fc.assert(fc.asyncProperty(mutate(npys), parseNpy), { numRuns: 400 });
  });

  it('mutations of numpy-written .npz files (stored and deflated)', async () => {
    await fc.assert(fc.asyncProperty(mutate(npzs), parseNpz), { numRuns: 300 });
  });

  it('random header dictionaries behind a valid preamble', async () => {
    const token = fc.constantFrom(
      "'descr'",
      "'shape'",
      "'fortran_order'",
      "'<f4'",
      "'|O'",
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      ',',
      ':',
      'True',
      'False',
      'None',
      '3',
      '-1',
      "u'x'",
      '\\',
      "'",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(token, { maxLength: 40 }),
        fc.constantFrom(1, 2, 3),
        async (tokens, version) => {
          const text = new TextEncoder().encode(tokens.join(' '));
          const start = version === 1 ? 10 : 12;
          const bytes = new Uint8Array(start + text.length + 32);
          bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
          const view = new DataView(bytes.buffer);
          if (version === 1) view.setUint16(8, text.length, true);
          else view.setUint32(8, text.length, true);
          bytes.set(text, start);
          await parseNpy(bytes);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the literal parser on arbitrary text throws nothing but FerryError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          parsePyLiteral(text, 'fuzz', 0);
        } catch (error) {
          expect(error).toBeInstanceOf(FerryError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
