import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanPath } from '../src/scan.js';

// Made by fixtures/make/numpy_dtypes.py; numpy checked that np.load(allow_pickle=True) calls
// os.system for every one of them (under a patched os.system: nothing ran).
const ATTACK = new URL('../../../fixtures/numpy/attack/', import.meta.url).pathname;
const NUMPY = new URL('../../../fixtures/numpy/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(`${ATTACK}expected.json`, 'utf8')) as {
  command: string;
  npy: Record<string, { header: string; calls: string[] }>;
  refused: Record<string, { header: string; calls: string[] }>;
  npz: Record<string, { calls: string[] }>;
};

describe('object dtypes however spelled: scan unpickles the data as np.load would', () => {
  it('covers every spelling of issue #16', () => {
    expect(Object.keys(expected.npy).sort()).toEqual(
      [
        'O8.npy',
        'bar-O.npy',
        'comment.npy',
        'commastring.npy',
        'concatenated.npy',
        'dict-descr.npy',
        'double-quotes.npy',
        'duplicate-key.npy',
        'lt-O.npy',
        'nested.npy',
        'np-save-record.npy',
        'repeat.npy',
        'repeat-tuple.npy',
        'spaced-size.npy',
        'object-word.npy',
        'string-field.npy',
        'structured.npy',
        'subarray-tuple.npy',
        'subarray.npy',
        'titled.npy',
        'type-number-17.npy',
        'unicode-prefix.npy',
      ].sort(),
    );
    for (const entry of Object.values(expected.npy)) {
      expect(entry.calls.length).toBeGreaterThan(0);
      for (const call of entry.calls) expect(call).toBe(expected.command);
    }
  });

  it.each(Object.keys(expected.npy))(
    '%s is unsafe: the os.system call in its data is found',
    async (name) => {
      const result = await scanPath(`${ATTACK}${name}`);
      expect(result.format).toBe('npy');
      expect(result.verdict).toBe('unsafe');
      expect(result.findings).toContainEqual(
        expect.objectContaining({
          severity: 'critical',
          rule: 'dangerous-call',
          message: expect.stringContaining('posix.system'),
        }),
      );
      expect(result.findings).toContainEqual(expect.objectContaining({ rule: 'npy-object-array' }));
    },
  );

  it('scans every .npz member that starts with the npy magic, whatever its name', async () => {
    const result = await scanPath(`${ATTACK}odd-names.npz`);
    expect(result.verdict).toBe('unsafe');
    const calls = result.findings
      .filter((f) => f.rule === 'dangerous-call')
      .map((f) => f.location.split(' byte')[0]);
    expect(calls.sort()).toEqual(Object.keys(expected.npz).sort());
    expect(calls).toContain('archive/data/0'); // named like a torch storage, which the scanner skipped
  });

  it('an npy with a zip at its end is scanned as the array np.load reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-npy-zip-'));
    try {
      const path = join(dir, 'polyglot.npy');
      writeFileSync(
        path,
        Buffer.concat([readFileSync(`${ATTACK}lt-O.npy`), readFileSync(`${NUMPY}savez.npz`)]),
      );
      const result = await scanPath(path);
      expect(result.verdict).toBe('unsafe');
      expect(result.findings).toContainEqual(
        expect.objectContaining({ rule: 'dangerous-call', location: expect.stringMatching(/^byte \d+$/) }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(Object.keys(expected.refused))(
    '%s (numpy unpickles it; ferry does not interpret the descr) is an error, never safe',
    async (name) => {
      expect(expected.refused[name]!.calls).toEqual([expected.command]);
      const result = await scanPath(`${ATTACK}${name}`);
      expect(result.verdict).toBe('error');
      expect(result.error?.code).toMatch(/^FERRY_NPY_(HEADER|DESCR)$/);
      expect(result.error?.message).not.toMatch(/\n/);
    },
  );

  it("numpy's own files stay safe: every dtype, object arrays of plain data, both .npz kinds", async () => {
    const files = readdirSync(NUMPY).filter((n) => /\.(npy|npz)$/.test(n));
    expect(files.length).toBeGreaterThan(20);
    for (const name of files) {
      const result = await scanPath(`${NUMPY}${name}`);
      expect([name, result.verdict]).toEqual([name, 'safe']);
    }
  });

  describe('headers ferry cannot fully read are errors, never safe', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-npy-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    // A pickle calling posix.system follows each header, so a skipped header would read "safe"
    // only by missing it.
    const payload = readFileSync(`${ATTACK}bar-O.npy`).subarray(128);
    const npy = (header: string, version = 1) => {
      const text = Buffer.from(`${header}\n`, version === 3 ? 'utf8' : 'latin1');
      const pre = version === 1 ? 10 : 12;
      const head = Buffer.alloc(pre);
      Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
      if (version === 1) head.writeUInt16LE(text.length, 8);
      else head.writeUInt32LE(text.length, 8);
      return Buffer.concat([head, text, payload]);
    };
    it.each([
      ["{'descr': f'|O', 'fortran_order': False, 'shape': (1,)}", 'FERRY_NPY_HEADER', 1],
      ["{'descr': '|O', 'fortran_order': False, 'shape': (1.0,)}", 'FERRY_NPY_HEADER', 1],
      ["{'descr': '|O', 'fortran_order': False, 'shape': (1L,)}", 'FERRY_NPY_HEADER', 3],
      [
        "{'descr': '\\N{LATIN CAPITAL LETTER O}', 'fortran_order': False, 'shape': (1,)}",
        'FERRY_NPY_HEADER',
        1,
      ],
      ["{'descr': {'aO'}, 'fortran_order': False, 'shape': (1,)}", 'FERRY_NPY_HEADER', 1],
      ["{'descr': b'|O', 'fortran_order': False, 'shape': (1,)}", 'FERRY_NPY_DESCR', 1],
      ["{'descr': [(1, '|O')], 'fortran_order': False, 'shape': (1,)}", 'FERRY_NPY_DESCR', 1],
      ["{'descr': [(('t', 'a', 'b'), '|O')], 'fortran_order': False, 'shape': (1,)}", 'FERRY_NPY_DESCR', 1],
      ["{'descr': '|O', 'fortran_order': 0, 'shape': (1,)}", 'FERRY_NPY_HEADER', 1],
      ["{'descr': '|O', 'fortran_order': False, 'shape': (1,), 'extra': 1}", 'FERRY_NPY_HEADER', 1],
    ])('%s -> %s', async (header, code, version) => {
      const path = join(dir, `h${Math.random().toString(36).slice(2)}.npy`);
      writeFileSync(path, npy(header, version));
      const result = await scanPath(path);
      expect(result.verdict).toBe('error');
      expect(result.error?.code).toBe(code);
    });
  });
});
