import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

// Issue #16: files numpy unpickles (np.load(..., allow_pickle=True) runs os.system) that an
// earlier ferry called safe. Made by fixtures/make/numpy_dtypes.py.
const ATTACK = fileURLToPath(new URL('../../../fixtures/numpy/attack/', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/ferry.js', import.meta.url));
const expected = JSON.parse(readFileSync(`${ATTACK}expected.json`, 'utf8')) as {
  npy: Record<string, unknown>;
  refused: Record<string, unknown>;
};

async function ferry(...argv: string[]) {
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (d) => (out += d));
  const code = await main(argv, { stdout, stderr: new PassThrough() });
  return { code, out };
}

describe('ferry scan: object dtypes in .npy and .npz however spelled', () => {
  it.each([...Object.keys(expected.npy), 'odd-names.npz'])('%s: unsafe, exit 1', async (name) => {
    const { code, out } = await ferry('scan', `${ATTACK}${name}`);
    expect(code).toBe(1);
    expect(out).toMatch(/: unsafe \(\d+ findings\)/);
    expect(out).toMatch(/CRITICAL dangerous-call: calls posix\.system/);
  });

  it.each(Object.keys(expected.refused))(
    '%s: a descr ferry does not interpret is exit 2, one line',
    async (name) => {
      const { code, out } = await ferry('scan', `${ATTACK}${name}`);
      expect(code).toBe(2);
      expect(out.trim().split('\n')).toEqual([expect.stringMatching(/: error: FERRY_NPY_(HEADER|DESCR): /)]);
      expect(out).not.toContain('safe');
    },
  );

  it('the installed binary exits 1 for the attacks (one process: the slow part is Node starting)', async () => {
    const run = promisify(execFile);
    const code = (args: string[]) =>
      run(process.execPath, [BIN, 'scan', ...args]).then(
        () => 0,
        (error: { code: number }) => error.code,
      );
    expect(await code([`${ATTACK}lt-O.npy`, `${ATTACK}odd-names.npz`])).toBe(1);
  });
});
