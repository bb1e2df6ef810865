import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isFerryError, parseUbjson } from '../../src/formats.js';
import { convertSklearnToOnnx } from '../../src/sklearn/convert.js';
import { isConvertError } from '../../src/errors.js';

const DIR = join(import.meta.dirname, '../../../../fixtures/sklearn');
const tmp = mkdtempSync(join(tmpdir(), 'ferry-sklearn-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Bit flips, truncations and splices of a real file. */
function mutation(bytes: Uint8Array) {
  const n = bytes.length;
  return fc.oneof(
    fc.array(fc.tuple(fc.nat(n - 1), fc.nat(7)), { minLength: 1, maxLength: 8 }).map((flips) => {
      const out = bytes.slice();
      for (const [at, bit] of flips) out[at]! ^= 1 << bit;
      return out;
    }),
    fc.nat(n - 1).map((cut) => bytes.slice(0, cut)),
    fc.tuple(fc.nat(n - 1), fc.nat(n - 1), fc.nat(64)).map(([a, b, len]) => {
      const out = bytes.slice();
      out.set(bytes.subarray(b, Math.min(n, b + len)).subarray(0, n - a), a);
      return out;
    }),
  );
}

const onlyFerryErrors = async (run: () => Promise<unknown>) => {
  try {
    await run();
  } catch (error) {
    if (!isFerryError(error) && !isConvertError(error)) throw error;
  }
};

describe('fuzz: mutated estimator files give a model or a FerryError, nothing else', () => {
  for (const [name, runs] of [
    ['forest_classifier_iris.joblib', 150],
    ['hgb_classifier_iris.joblib', 100],
    ['column_transformer.joblib', 100],
    ['logreg_multinomial.pkl', 100],
    ['xgb_multi.joblib', 60],
    ['xgb_multi.xgb.json', 60],
  ] as const) {
    it(name, async () => {
      const bytes = new Uint8Array(readFileSync(join(DIR, name)));
      let i = 0;
      await fc.assert(
        fc.asyncProperty(mutation(bytes), async (mutated) => {
          const path = join(tmp, `${i++}-${name}`);
          writeFileSync(path, mutated);
          await onlyFerryErrors(() => convertSklearnToOnnx(path));
          rmSync(path);
        }),
        { numRuns: runs, seed: 7 },
      );
    });
  }

  it('UBJSON: mutated XGBoost models parse or fail with FERRY_XGBOOST_MODEL', () => {
    const bytes = new Uint8Array(readFileSync(join(DIR, 'xgb_binary.ubj')));
    fc.assert(
      fc.property(mutation(bytes), (mutated) => {
        try {
          parseUbjson(mutated, 'x.ubj');
        } catch (error) {
          expect(isFerryError(error) && error.code).toBe('FERRY_XGBOOST_MODEL');
        }
      }),
      { numRuns: 400, seed: 3 },
    );
  });

  it('UBJSON: a huge declared count is refused before allocating', () => {
    // [ # L 2^40 : an array claiming a trillion elements in 11 bytes.
    const bytes = Uint8Array.from([0x5b, 0x23, 0x4c, 0, 0, 1, 0, 0, 0, 0, 0, 0x69]);
    expect(() => parseUbjson(bytes, 'x.ubj')).toThrow(/a count of 1099511627776/);
    const deep = new Uint8Array(200).fill(0x5b);
    expect(() => parseUbjson(deep, 'x.ubj')).toThrow(/nested over 64 deep/);
  });
});
