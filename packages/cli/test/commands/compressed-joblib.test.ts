import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.helper.js';

// joblib.dump(model, path, compress=(METHOD, 3)) for each compression joblib 1.2 writes, and
// attack files compressed the same way (fixtures/make/compressed_files.py).
const SKLEARN = fileURLToPath(new URL('../../../../fixtures/sklearn/', import.meta.url));
const COMPRESSION = fileURLToPath(new URL('../../../../fixtures/compression/', import.meta.url));
const METHODS = ['zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4'] as const;
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-compressed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(METHODS)('a joblib file compressed with %s', (method) => {
  const model = join(SKLEARN, `forest_${method}.joblib`);

  it('scans safe, inspects as the estimator, converts to ONNX', async () => {
    const scan = await runCli(['scan', model]);
    expect(scan).toMatchObject({ code: 0, stdout: `${model}: joblib: safe\n` });
    const inspect = await runCli(['inspect', model]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toMatch(new RegExp(`^${model}: joblib\n`));
    expect(inspect.stdout).toContain('RandomForestClassifier classes=[0, 1, 2] n_features=4 n_estimators=3');
    const out = join(dir, `forest_${method}.onnx`);
    const convert = await runCli(['convert', model, '-o', out]);
    expect(convert.code).toBe(0);
    expect(convert.stdout).toContain('RandomForestClassifier (classifier, 4 features)');
    expect(existsSync(out)).toBe(true);
  });

  it('finds os.system in a compressed pickle: unsafe, exit 1; inspect refuses it', async () => {
    const evil = join(COMPRESSION, `evil-${method}.joblib`);
    const scan = await runCli(['scan', evil]);
    expect(scan.code).toBe(1);
    expect(scan.stdout).toMatch(
      new RegExp(`CRITICAL dangerous-call: calls posix\\.system: .* \\[\\(${method}\\) byte 30\\]`),
    );
    const inspect = await runCli(['inspect', evil]);
    expect(inspect.code).toBe(2);
    expect(inspect.stderr).toMatch(/^ferry inspect: FERRY_PICKLE_REFUSED: /);
  });

  it('stops a decompression bomb with FERRY_LIMIT (exit 2), before it is inflated', async () => {
    const bomb = join(COMPRESSION, `bomb-${method}.joblib`);
    const scan = await runCli(['scan', '--json', bomb]);
    expect(scan.code).toBe(2);
    const [file] = JSON.parse(scan.stdout).files;
    expect(file).toMatchObject({ format: 'joblib', verdict: 'error', error: { code: 'FERRY_LIMIT' } });
    expect(file.error.message).toMatch(
      new RegExp(
        `${method} output is at least \\d+ bytes from \\d+ compressed bytes .*MAX_DECOMPRESSION_RATIO.*CWE-409`,
      ),
    );
    const convert = await runCli(['convert', bomb, '-o', join(dir, `bomb-${method}.onnx`)]);
    expect(convert.code).toBe(2);
    expect(convert.stderr).toMatch(/^ferry convert: FERRY_LIMIT: /);
    expect(existsSync(join(dir, `bomb-${method}.onnx`))).toBe(false);
  });

  it('a cut-off or corrupted stream is one clear error, exit 2', async () => {
    const bytes = readFileSync(model);
    const cut = join(dir, `cut-${method}.joblib`);
    writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
    const scanCut = await runCli(['scan', cut]);
    expect(scanCut.code).toBe(2);
    expect(scanCut.stdout).toMatch(
      new RegExp(
        `^${cut}: error: FERRY_COMPRESSED_TRUNCATED: .*: ${method} stream ends at byte \\d+ before its end`,
      ),
    );
    const flipped = Buffer.from(bytes);
    flipped[flipped.length >> 1]! ^= 0x10;
    const bad = join(dir, `flipped-${method}.joblib`);
    writeFileSync(bad, flipped);
    const scanBad = await runCli(['scan', bad]);
    expect(scanBad.code).toBe(2);
    expect(scanBad.stdout).toMatch(
      new RegExp(`^${bad}: error: FERRY_COMPRESSED_(STREAM|CHECKSUM): .*: ${method} `),
    );
    expect(scanBad.stdout.trim().split('\n')).toHaveLength(1);
  });
});
