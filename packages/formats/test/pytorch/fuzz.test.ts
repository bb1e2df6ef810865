import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { openModel } from '../../src/open.js';
import { scanPath } from '../../src/scan.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';

const TORCH = new URL('../../../../fixtures/pickle/torch/', import.meta.url).pathname;
const JOBLIB = new URL('../../../../fixtures/pickle/joblib/', import.meta.url).pathname;
const seeds = [
  `${TORCH}state_dict.pt`,
  `${TORCH}views_legacy.pt`,
  `${TORCH}traced.pt`,
  `${JOBLIB}arrays.joblib`,
  `${JOBLIB}tree.joblib`,
].map((p) => readFileSync(p));
const dir = mkdtempSync(join(tmpdir(), 'ferry-pickle-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function onlyFerryErrors(bytes: Uint8Array, i: number): Promise<void> {
  const path = join(dir, `f${i}`);
  writeFileSync(path, bytes);
  // scanPath reports errors as a verdict; it must never throw anything else.
  await scanPath(path);
  try {
    const model = await openModel(path, { unsafeInspect: true });
    try {
      for (const t of model.tensors) await readTensorBytes(t);
    } finally {
      await model.close();
    }
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
  }
}

describe('torch and joblib containers: fuzz', () => {
  it('bit flips, truncations and splices of real files give only FerryError', async () => {
    let i = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.boolean(),
        async (which, flips, cut, truncate) => {
          const seed = seeds[which]!;
          const bytes = Uint8Array.from(seed);
          // Aim at the headers and pickles at the front and the zip directory at the back.
          for (const [at, v] of flips) {
            const pos =
              at % 2 === 0
                ? (at >> 1) % Math.min(bytes.length, 800)
                : bytes.length - 1 - ((at >> 1) % Math.min(bytes.length, 400));
            bytes[pos] = v;
          }
          await onlyFerryErrors(truncate ? bytes.subarray(0, cut % bytes.length) : bytes, i++);
        },
      ),
      { numRuns: 200 },
    );
  });
});
