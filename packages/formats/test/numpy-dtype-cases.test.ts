import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  containsObject,
  DescrRefused,
  type DtypeDescription,
  describeDtype,
  interpretDescr,
} from '../src/numpy/npy-dtype.js';
import { parsePyLiteral } from '../src/numpy/py-literal.js';

interface Case {
  readonly descr: string;
  readonly note: string;
  readonly numpy: { readonly dtype: DtypeDescription; readonly hasobject: boolean } | null;
}
// Made by numpy itself: fixtures/make/numpy_dtypes.py (numpy.lib.format.descr_to_dtype).
const { cases } = JSON.parse(
  readFileSync(new URL('../../../fixtures/numpy/dtype-cases.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

function ferry(descr: string): (DtypeDescription & { hasobject: boolean }) | string {
  try {
    const dtype = interpretDescr(parsePyLiteral(descr, 'case', 0));
    return { ...describeDtype(dtype), hasobject: containsObject(dtype) };
  } catch (error) {
    if (error instanceof DescrRefused) return error.message;
    throw error;
  }
}

describe('descr interpretation against numpy 1.24 (fixtures/numpy/dtype-cases.json)', () => {
  it('has the cases numpy computed', () => {
    expect(cases.length).toBeGreaterThan(1800);
    expect(cases.filter((c) => c.note === 'random' && c.numpy?.hasobject).length).toBeGreaterThan(50);
  });

  it('agrees with numpy on every descr numpy accepts, bar the spellings ferry refuses on purpose', () => {
    const refused: string[] = [];
    const wrong: string[] = [];
    for (const c of cases) {
      const ours = ferry(c.descr);
      if (c.numpy === null) {
        if (typeof ours !== 'string')
          wrong.push(`${c.descr}: numpy refuses, ferry reads ${JSON.stringify(ours)}`);
        continue;
      }
      if (typeof ours === 'string') {
        refused.push(c.descr);
        continue;
      }
      const expected = { ...c.numpy.dtype, hasobject: c.numpy.hasobject };
      if (JSON.stringify(ours) !== JSON.stringify(expected))
        wrong.push(`${c.descr}: numpy ${JSON.stringify(expected)}, ferry ${JSON.stringify(ours)}`);
    }
    expect(wrong).toEqual([]);
    // Accepted by numpy, refused by ferry on purpose (exit 2 in scan, never safe): datetime
    // divisors, negative sizes and sizes numpy wraps around, and numpy's (base, other dtype) view
    // form that a 3-character dict key reaches ('abc' is ('a', 'b', 'c'): int8 viewed as S1).
    expect(refused).toEqual(["'M8[ns/4]'", "'S99999999999'", "'U1073741824'", "'S -2'", "{'abc': 1}"]);
  });

  it('reads every random descr and comma/repeat string numpy accepts, and finds each object numpy finds', () => {
    const chosen = cases.filter((x) => (x.note === 'random' || x.note === 'comma/repeat form') && x.numpy);
    expect(chosen.length).toBeGreaterThan(400);
    for (const c of chosen) {
      const ours = ferry(c.descr);
      expect(typeof ours, c.descr).toBe('object');
      expect((ours as { hasobject: boolean }).hasobject, c.descr).toBe(c.numpy!.hasobject);
    }
  });
});
