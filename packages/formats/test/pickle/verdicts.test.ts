import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/detect.js';
import { openModel } from '../../src/open.js';
import { flattenGraph } from '../../src/pickle/flatten.js';
import { BufferInput } from '../../src/pickle/input.js';
import { runPickle } from '../../src/pickle/machine.js';
import { numpyTensorOf } from '../../src/pickle/numpy-arrays.js';
import { judgePickles } from '../../src/pickle/policy.js';
import { scanPath } from '../../src/scan.js';
import { BufferSource } from '../../src/tensor/byte-source.js';
import { readTensorBytes } from '../../src/tensor/tensor-ref.js';

const FIXTURES = new URL('../../../../fixtures/', import.meta.url).pathname;
const VERDICTS = `${FIXTURES}pickle/verdicts/`;
const WILD = `${FIXTURES}wild/`;
type Arrays = Record<string, { shape: number[]; descr: string; sha256?: string; tensor?: boolean }>;
/** What numpy/joblib/torch loaded back (fixtures/make/verdict_files.py, wild_issue22.py). */
const made = JSON.parse(readFileSync(`${VERDICTS}expected.json`, 'utf8')) as {
  files: Record<string, Arrays>;
};
const wild = JSON.parse(readFileSync(`${WILD}issue22-expected.json`, 'utf8')) as {
  files: Record<string, { loader: string; loads: boolean; arrays?: Arrays; error?: string }>;
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every array the reference loader returned is a tensor with its bytes, or named as opaque. */
async function expectArrays(path: string, arrays: Arrays): Promise<void> {
  const model = await openModel(path);
  try {
    const tensors = new Map(model.tensors.map((t) => [t.name, t]));
    const opaque = new Set((model.opaque ?? []).map((t) => t.name));
    for (const [name, spec] of Object.entries(arrays)) {
      const ref = tensors.get(name);
      const numeric = spec.tensor ?? spec.sha256 !== undefined;
      if (!numeric) {
        expect(opaque.has(name), `${path}: ${name} (${spec.descr}) named as opaque`).toBe(true);
        continue;
      }
      expect(ref, `${path}: ${name} (${spec.descr}) is a tensor`).toBeDefined();
      expect(ref!.shape).toEqual(spec.shape);
      expect(sha(await readTensorBytes(ref!)), `${path}: ${name}`).toBe(spec.sha256);
    }
    // Nothing more, nothing dropped: the loader's arrays are exactly ferry's tensors and opaque.
    expect([...tensors.keys(), ...opaque].sort()).toEqual(Object.keys(arrays).sort());
  } finally {
    await model.close();
  }
}

describe('files made by numpy, joblib and torch scan safe and read whole (issue #22.2-4)', () => {
  it.each(Object.keys(made.files))('%s', async (file) => {
    const scan = await scanPath(VERDICTS + file);
    expect(scan.findings.filter((f) => f.severity !== 'info' && f.severity !== 'low')).toEqual([]);
    expect(scan.verdict).toBe('safe');
    await expectArrays(VERDICTS + file, made.files[file]!);
  });

  it("a Trainer's rng_state.pth: the numpy MT19937 key is a tensor beside torch's cpu state", async () => {
    for (const file of ['rng_state.pth', 'rng_state_legacy.pth']) {
      const model = await openModel(VERDICTS + file);
      try {
        expect(model.tensors.map((t) => `${t.name} ${t.dtype} ${t.shape}`).sort()).toEqual([
          'cpu U8 5056',
          'numpy.1 U32 624',
        ]);
      } finally {
        await model.close();
      }
    }
  });

  it('numpy.matrix is a 2-D tensor, a masked array its data and its mask', async () => {
    const model = await openModel(`${VERDICTS}numpy_subclasses_p2.pkl`);
    try {
      const byName = new Map(model.tensors.map((t) => [t.name, `${t.dtype} ${JSON.stringify(t.shape)}`]));
      expect(byName.get('matrix')).toBe('F32 [2,2]');
      expect(byName.get('masked')).toBe('F64 [3]');
      expect(byName.get('masked.mask')).toBe('BOOL [3]');
      expect(byName.get('memmap')).toBe('I16 [4]');
      expect(new Set(model.opaque?.map((t) => t.name))).toEqual(
        new Set([
          'recarray',
          'chararray',
          'dates',
          'durations',
          // numpy.ma of a record dtype (and its mvoid element): a structured mask too
          'masked_records',
          'masked_records.mask',
          'masked_record',
          'masked_record.mask',
        ]),
      );
    } finally {
      await model.close();
    }
  });

  it("joblib < 0.10's ZF container is joblib, read through joblib's own layout", async () => {
    expect(await detectFormat(`${VERDICTS}old_zfile.pkl`)).toBe('joblib');
    expect((await scanPath(`${VERDICTS}old_zfile.pkl`)).format).toBe('joblib');
  });
});

describe("joblib's and numpy's own test data (fixtures/wild) as their loaders see it", () => {
  const files = Object.entries(wild.files);
  // joblib < 0.10 without compression kept arrays in companion .npy files named in the pickle
  // (NDArrayWrapper, ZNDArrayWrapper): they read files outside the one scanned, so are refused.
  const external = (name: string) =>
    /joblib_0\.9\.[24][^/]*(\.pkl|_cache_size_pickle_py35_np19\.gz)$/.test(name);

  it.each(files.filter(([name]) => name.startsWith('numpy-random/')))('%s: safe', async (name, e) => {
    expect(e.loads).toBe(true);
    expect((await scanPath(WILD + name)).verdict).toBe('safe');
  });

  it.each(files.filter(([name, e]) => e.arrays && !external(name)))(
    '%s: safe, arrays read',
    async (name, e) => {
      const scan = await scanPath(WILD + name);
      expect(scan.verdict).toBe('safe');
      await expectArrays(WILD + name, e.arrays!);
    },
  );

  it.each(files.filter(([name]) => external(name)))('%s: names the companion-file wrapper', async (name) => {
    const scan = await scanPath(WILD + name);
    expect(scan.verdict).toBe('unsafe');
    expect(scan.findings[0]!.message).toMatch(/joblib\.numpy_pickle\.Z?NDArrayWrapper/);
  });

  // Python 2 pickles of str: joblib.load on Python 3 stops at the first one (ASCII decoding); the
  // bytes are data either way, and ferry reads them as latin-1 as numpy's encoding='latin1' does.
  it.each(files.filter(([name, e]) => !e.loads && !external(name)))(
    '%s: safe (Python 2 str)',
    async (name, e) => {
      expect(e.error).toMatch(/python 2/);
      const scan = await scanPath(WILD + name);
      expect(scan.verdict).toBe('safe');
      expect(['joblib', 'pickle']).toContain(scan.format);
    },
  );
});

describe('an array ferry cannot read is named, never dropped (issue #22.3)', () => {
  it('an ndarray rebuilt without the state numpy writes is an opaque tensor with the reason', () => {
    // {'w': _reconstruct(ndarray, (0,), b'b')} with no BUILD: numpy would hold an empty array.
    const bytes = Buffer.from(
      '\x80\x02}U\x01wcnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87Rs.',
      'latin1',
    );
    const value = runPickle(new BufferInput(bytes, 't.pkl')).value;
    const flat = flattenGraph(value, numpyTensorOf(new BufferSource(bytes, 't.pkl'), []), 't.pkl');
    expect(flat.tensors).toEqual([]);
    expect(flat.opaque).toEqual([
      expect.objectContaining({ name: 'w', reason: 'array state in a form ferry does not read' }),
    ]);
  });
});

describe("numpy.random's pickle helpers: what they instantiate is judged as a callee", () => {
  const run = (text: string) => {
    const bytes = Buffer.from(text, 'latin1');
    return judgePickles([runPickle(new BufferInput(bytes, 't.pkl'))], { locate: (o) => `byte ${o}` });
  };
  it('numpy 2 hands __bit_generator_ctor the class: allowed for bit generators, a finding otherwise', () => {
    expect(
      run('\x80\x02cnumpy.random._pickle\n__bit_generator_ctor\ncnumpy.random._pcg64\nPCG64\n\x85R.'),
    ).toEqual([]);
    expect(run('\x80\x02cnumpy.random._pickle\n__bit_generator_ctor\ncsome.module\nThing\n\x85R.')).toEqual([
      expect.objectContaining({ severity: 'high', rule: 'unknown-call' }),
    ]);
  });
  it("__randomstate_ctor's constructor argument is called: os.system there is a dangerous call", () => {
    const findings = run(
      '\x80\x02cnumpy.random._pickle\n__randomstate_ctor\nX\x07\x00\x00\x00MT19937cos\nsystem\n\x86R.',
    );
    expect(findings).toEqual([expect.objectContaining({ severity: 'critical', rule: 'dangerous-call' })]);
  });
});
