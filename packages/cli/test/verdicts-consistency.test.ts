import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './test-io.helper.js';

// Issue #22: one verdict and one error per file whatever the command. Files made by Debian's
// numpy/joblib/torch (fixtures/make/verdict_files.py) and joblib's own test data (fixtures/wild).
const VERDICTS = fileURLToPath(new URL('../../../fixtures/pickle/verdicts/', import.meta.url));
const WILD = fileURLToPath(new URL('../../../fixtures/wild/joblib-data/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-verdicts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('numpy.matrix in joblib files: scan, inspect, convert and diff all read it', () => {
  it.each(['bz2', 'gzip', 'lzma', 'xz', 'lz4', 'zlib'])('matrix_%s.joblib', async (method) => {
    const file = join(VERDICTS, `matrix_${method}.joblib`);
    expect(await runCli(['scan', file])).toMatchObject({ code: 0, stdout: `${file}: joblib: safe\n` });
    const inspect = JSON.parse((await runCli(['inspect', '--json', file])).stdout);
    expect(inspect.tensors.map((t: { name: string; shape: number[] }) => `${t.name} ${t.shape}`)).toEqual([
      '0 5',
      '1 1,3',
    ]);
    const out = join(dir, `matrix_${method}.safetensors`);
    const convert = await runCli(['convert', '--json', file, '-o', out]);
    expect(convert.code).toBe(0);
    expect(JSON.parse(convert.stdout)).toMatchObject({ format: 'joblib', tensors: 2 });
    const diff = await runCli(['diff', file, out]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('equal: 2 tensors match');
  });

  it("joblib's own test file: the matrix is read, the object array named by convert, never dropped", async () => {
    const file = join(WILD, 'joblib_0.11.0_pickle_py36_np111.pkl.bz2');
    expect((await runCli(['scan', file])).code).toBe(0);
    const inspect = JSON.parse((await runCli(['inspect', '--json', file])).stdout);
    expect(inspect.tensors.map((t: { name: string }) => t.name)).toEqual(['0', '1', '4']);
    expect(inspect.opaque.map((t: { name: string }) => t.name)).toEqual(['2']);
    const convert = await runCli(['convert', file, '-o', join(dir, 'joblib-data.safetensors')]);
    expect(convert.code).toBe(2);
    expect(convert.stderr).toMatch(/FERRY_CONVERT_OPAQUE: .*: 2 \(\|O8: object array/);
    // diff compares the three tensors and names the object array it cannot compare.
    const older = join(WILD, 'joblib_0.10.0_pickle_py33_np18.pkl.xz');
    const diff = await runCli(['diff', file, older]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toMatch(/^2 +not compared +\|O8/m);
    expect(diff.stdout).toContain('equal: 3 tensors match; 1 not compared (no ferry dtype)');
    const json = JSON.parse((await runCli(['diff', '--json', file, older])).stdout);
    expect(json.notCompared).toEqual([
      {
        name: '2',
        a: '|O8: object array (Python objects, not numbers)',
        b: '|O8: object array (Python objects, not numbers)',
      },
    ]);
  });
});

describe("a Trainer's rng_state.pth: every array is listed and converted (issue #22.3)", () => {
  it.each(['rng_state.pth', 'rng_state_legacy.pth'])('%s', async (name) => {
    const file = join(VERDICTS, name);
    const inspect = JSON.parse((await runCli(['inspect', '--json', file])).stdout);
    expect(inspect.tensors.map((t: { name: string }) => t.name).sort()).toEqual(['cpu', 'numpy.1']);
    const out = join(dir, `${name}.safetensors`);
    const convert = await runCli(['convert', '--json', file, '-o', out]);
    expect(JSON.parse(convert.stdout)).toMatchObject({ tensors: 2, bytes: 624 * 4 + 5056 });
    const header = readFileSync(out);
    const json = JSON.parse(header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString());
    expect(json['numpy.1']).toMatchObject({ dtype: 'U32', shape: [624] });
  });
});

describe('compressed files: the same answer from scan, inspect and convert (issue #22.4)', () => {
  const good = readFileSync(join(VERDICTS, 'matrix_bz2.joblib'));
  const zf = readFileSync(join(VERDICTS, 'old_zfile.pkl'));
  const cases: [string, Buffer, string][] = [
    ['truncated.bz2', good.subarray(0, 60), 'FERRY_COMPRESSED_TRUNCATED'],
    [
      'corrupt.bz2',
      Buffer.concat([good.subarray(0, 20), Buffer.from([good[20]! ^ 0xff]), good.subarray(21)]),
      'FERRY_COMPRESSED_STREAM',
    ],
    // joblib.load: "Incorrect data length while decompressing ... The file could be corrupted."
    [
      'bad-length.zf',
      Buffer.concat([zf.subarray(0, 6), Buffer.from('4'), zf.subarray(7)]),
      'FERRY_COMPRESSED_STREAM',
    ],
    ['truncated.zf', zf.subarray(0, 40), 'FERRY_COMPRESSED_TRUNCATED'],
  ];
  it.each(cases)('%s: %s everywhere', async (name, bytes, code) => {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    const scan = JSON.parse((await runCli(['scan', '--json', file])).stdout).files[0];
    expect(scan).toMatchObject({ verdict: 'error', error: { code } });
    const inspect = await runCli(['inspect', file]);
    expect(inspect.code).toBe(2);
    expect(inspect.stderr).toContain(`: ${code}: `);
    const out = join(dir, `${name}.safetensors`);
    const convert = await runCli(['convert', file, '-o', out]);
    expect(convert.code).toBe(2);
    expect(convert.stderr).toContain(`: ${code}: `);
    expect(existsSync(out)).toBe(false);
  });

  it('a compressed file whose data is no pickle is named by its compression everywhere', async () => {
    // gzip of an ONNX-like protobuf head: decompresses, but is not a pickle.
    const file = join(dir, 'not-a-pickle.gz');
    const { gzipSync } = await import('node:zlib');
    writeFileSync(file, gzipSync(Buffer.from([0x08, 0x07, 0x12, 0x04, 0x74, 0x65, 0x73, 0x74])));
    const scan = JSON.parse((await runCli(['scan', '--json', file])).stdout).files[0];
    expect(scan.error).toMatchObject({ code: 'FERRY_UNKNOWN_FORMAT' });
    expect(scan.error.message).toContain('gzip data that is not a pickle');
    const inspect = await runCli(['inspect', file]);
    expect(inspect.stderr).toContain('FERRY_UNKNOWN_FORMAT');
    expect(inspect.stderr).toContain('gzip data that is not a pickle');
  });

  it("joblib < 0.10's ZF container converts like any joblib file", async () => {
    const file = join(dir, 'old.pkl');
    copyFileSync(join(VERDICTS, 'old_zfile.pkl'), file);
    expect((await runCli(['scan', file])).stdout).toBe(`${file}: joblib: safe\n`);
    const convert = await runCli(['convert', '--json', file, '-o', join(dir, 'old.safetensors')]);
    expect(JSON.parse(convert.stdout)).toMatchObject({ format: 'joblib', tensors: 2 });
  });
});
