import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BufferInput } from '../src/pickle/input.js';
import { runPickle } from '../src/pickle/machine.js';
import { numpyDtype } from '../src/pickle/numpy-dtype.js';
import { type JoblibArray, readPickleStream } from '../src/pickle/stream.js';
import { scanPath } from '../src/scan.js';

// Made by fixtures/make/joblib_dtypes.py with joblib 1.2 and numpy 1.24 (issue #24.2).
const DIR = new URL('../../../fixtures/pickle/joblib-dtypes/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(`${DIR}expected.json`, 'utf8')) as {
  arrays: {
    name: string;
    dtype: string;
    itemsize: number;
    shape: number[];
    nbytes: number;
    sha256: string;
  }[];
  attacks: Record<string, { verdict: string; note: string }>;
};
const oracle = JSON.parse(readFileSync(`${DIR}dtype-oracle.json`, 'utf8')) as {
  codes: string[];
  states: (string | null)[];
  cases: [string, number, number | null, boolean | null, string | null][];
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('joblib 1.2 arrays of every dtype: ferry steps over exactly the bytes joblib reads', () => {
  it('finds each array at its offset with count * itemsize bytes', () => {
    const bytes = readFileSync(`${DIR}dtypes.joblib`);
    const input = new BufferInput(bytes, 'dtypes.joblib');
    const arrays: JoblibArray[] = [];
    const stream = readPickleStream(input, { arrays });
    expect(stream.trailing).toBeUndefined();
    expect(stream.end).toBe(bytes.length);
    // The object array is a nested pickle, not raw bytes: every other array, in stream order.
    expect(arrays.map((a) => a.length)).toEqual(expected.arrays.map((a) => a.nbytes));
    arrays.forEach((a, i) => {
      expect(sha(input.read(a.start, a.length)), expected.arrays[i]!.name).toBe(expected.arrays[i]!.sha256);
    });
    expect(stream.nested).toHaveLength(1);
  });

  it('scans the dump as safe', async () => {
    const result = await scanPath(`${DIR}dtypes.joblib`);
    expect(result.verdict).toBe('safe');
  });
});

/** `numpy.dtype(code, False, True)` then BUILD with the state numpy pickled, as opcodes. */
function dtypePickle(code: string, state: string | null): Uint8Array {
  const name = new TextEncoder().encode(code);
  const parts = [
    Uint8Array.from([0x80, 0x02]),
    new TextEncoder().encode('cnumpy\ndtype\n'),
    Uint8Array.from([0x8c, name.length]),
    name,
    Uint8Array.from([0x89, 0x88, 0x87, 0x52]), // False True TUPLE3 REDUCE
    ...(state === null ? [] : [Buffer.from(state, 'hex'), Uint8Array.from([0x62])]), // BUILD
    Uint8Array.from([0x2e]),
  ];
  return Buffer.concat(parts);
}

describe('numpy.dtype as a pickle rebuilds it (numpy 1.24 is the oracle)', () => {
  it('agrees with numpy on itemsize and hasobject wherever it accepts a dtype', () => {
    let accepted = 0;
    for (const [code, stateIndex, itemsize, hasobject, error] of oracle.cases) {
      const value = runPickle(new BufferInput(dtypePickle(code, oracle.states[stateIndex]!))).value;
      const dtype = numpyDtype(value);
      if (typeof dtype === 'string') continue; // refused: the joblib hook fails closed
      accepted++;
      const where = `${JSON.stringify(code)} state ${stateIndex}`;
      expect(error, where).toBeNull();
      expect(dtype.itemsize, where).toBe(itemsize);
      expect(dtype.hasObject, where).toBe(hasobject);
    }
    // Every code numpy's __reduce__ writes, with its own states, is understood.
    expect(accepted).toBeGreaterThan(300);
  });

  it("refuses codes numpy's parser takes but its __reduce__ never writes", () => {
    for (const code of [
      'f 8',
      'f+8',
      'f08',
      'float64',
      'd',
      '<f8',
      'U05',
      'i4,f8',
      '(2,)f4',
      'M8[ns]',
      'S',
    ]) {
      const value = runPickle(new BufferInput(dtypePickle(code, null))).value;
      expect(typeof numpyDtype(value), code).toBe('string');
    }
  });
});

describe('crafted joblib files where naive array skipping would hide os.system', () => {
  it.each(Object.entries(expected.attacks))('%s', async (file, want) => {
    const result = await scanPath(DIR + file);
    expect(result.verdict, want.note).toBe(want.verdict);
    if (want.verdict === 'unsafe') {
      expect(result.findings.map((f) => f.message)).toEqual(
        expect.arrayContaining([expect.stringContaining('os.system')]),
      );
    }
  });
});
