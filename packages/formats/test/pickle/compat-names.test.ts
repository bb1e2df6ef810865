import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BufferInput } from '../../src/pickle/input.js';
import { runPickle } from '../../src/pickle/machine.js';
import { judgeGlobal, judgePickles } from '../../src/pickle/policy.js';
import type { PyGlobal } from '../../src/pickle/values.js';
import { scanPath } from '../../src/scan.js';

const FIXTURES = new URL('../../../../fixtures/', import.meta.url).pathname;
/** What CPython's unpickler resolved each entry to (fixtures/make/compat_pickle.py). */
const expected = JSON.parse(readFileSync(`${FIXTURES}pickle/compat/expected.json`, 'utf8')) as {
  python: string;
  entries: { table: string; written: [string, string]; resolved: [string, string]; checked: boolean }[];
};

/** `PROTO p; GLOBAL 'module name'; STOP`, or protocol 0 with no PROTO. */
function globalPickle(protocol: number, module: string, name: string): Uint8Array {
  const body = Buffer.from(`c${module}\n${name}\n.`, 'latin1');
  return protocol === 0 ? body : Buffer.concat([Buffer.from([0x80, protocol]), body]);
}

function resolve(protocol: number, module: string, name: string): PyGlobal {
  return runPickle(new BufferInput(globalPickle(protocol, module, name), 't.pkl')).value as PyGlobal;
}

describe("CPython's find_class name mapping (_compat_pickle, fix_imports)", () => {
  it('covers both tables', () => {
    expect(expected.entries.filter((e) => e.table === 'NAME_MAPPING').length).toBeGreaterThan(80);
    expect(expected.entries.filter((e) => e.table === 'IMPORT_MAPPING').length).toBeGreaterThan(50);
  });

  it.each(expected.entries.map((e) => [`${e.table} ${e.written.join('.')}`, e] as const))(
    '%s',
    (_, entry) => {
      const [module, name] = entry.written;
      for (const protocol of [0, 1, 2]) {
        const g = resolve(protocol, module, name);
        expect([g.module, g.name], `protocol ${protocol}`).toEqual(entry.resolved);
        expect(g.written).toEqual({ module, name });
      }
      // Protocol 3 and above are Python 3's: the name is imported as written.
      const g3 = resolve(3, module, name);
      expect([g3.module, g3.name]).toEqual([module, name]);
      expect(g3.written).toBeUndefined();
    },
  );

  it('judges the mapped name: xrange is range (allowed), reduce is functools.reduce (critical)', () => {
    expect(judgeGlobal(resolve(2, '__builtin__', 'xrange'))).toEqual({
      kind: 'allowed',
      name: 'builtins.range',
    });
    expect(judgeGlobal(resolve(2, '__builtin__', 'unicode')).kind).toBe('allowed');
    expect(judgeGlobal(resolve(2, '__builtin__', 'long')).kind).toBe('allowed');
    expect(judgeGlobal(resolve(2, '__builtin__', 'reduce')).kind).toBe('dangerous');
    expect(judgeGlobal(resolve(2, '__builtin__', 'eval')).kind).toBe('dangerous');
    // At protocol 3 `__builtin__` does not import, but a Python 2 name is still judged as one.
    expect(judgeGlobal(resolve(3, '__builtin__', 'eval')).kind).toBe('dangerous');
    expect(judgeGlobal(resolve(3, '__builtin__', 'xrange')).kind).toBe('unknown');
  });

  it('reports a mapped finding under the name Python imports', () => {
    const pickle = Buffer.from('\x80\x02c__builtin__\nreduce\n)R.', 'latin1');
    const result = runPickle(new BufferInput(pickle, 't.pkl'));
    const findings = judgePickles([result], { locate: (o) => `byte ${o}` });
    expect(findings[0]).toMatchObject({ severity: 'critical', rule: 'dangerous-call' });
    expect(findings[0]!.message).toContain('functools.reduce');
  });
});

describe("numpy's Python 2 test data scans like its Python 3 twin (issue #22.1)", () => {
  it.each(['py2-objarr.npy', 'py2-np0-objarr.npy', 'py2-objarr.npz'])('%s is safe', async (file) => {
    // np.load(allow_pickle=True, encoding='latin1') reads each: [None, range, '優良', 'ä¸\x8dè\x89¯'].
    const result = await scanPath(`${FIXTURES}wild/numpy-py2/${file}`);
    expect(result.verdict).toBe('safe');
    expect(result.findings.filter((f) => f.severity !== 'info' && f.severity !== 'low')).toEqual([]);
  });

  it('py2-objarr.npy has the findings of its Python 3 twin (np.save by Debian numpy)', async () => {
    const rules = async (path: string) =>
      (await scanPath(path)).findings.map((f) => `${f.severity} ${f.rule}`).sort();
    const twin = await rules(`${FIXTURES}pickle/verdicts/py3-objarr.npy`);
    expect(twin).toEqual(['info npy-object-array']);
    expect(await rules(`${FIXTURES}wild/numpy-py2/py2-objarr.npy`)).toEqual(twin);
  });

  it("py2-np0-objarr.npy: numpy's pre-1.0 _reconstruct and the newline after STOP are notes at most", async () => {
    const result = await scanPath(`${FIXTURES}wild/numpy-py2/py2-np0-objarr.npy`);
    expect(result.findings.map((f) => `${f.severity} ${f.rule}`).sort()).toEqual([
      'info npy-object-array',
      'low trailing-data',
    ]);
  });
});
