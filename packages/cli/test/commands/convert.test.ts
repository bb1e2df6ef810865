import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.helper.js';

const FIXTURES = fileURLToPath(new URL('../../../../fixtures/safetensors/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ferry convert', () => {
  it('converts and prints a one-line summary', async () => {
    const out = join(dir, 'small.safetensors');
    const result = await runCli(['convert', join(FIXTURES, 'small.safetensors'), '-o', out]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(
      /small\.safetensors: 3 tensors, 56 B from .* \(safetensors\) in \d+\.\d\d s\n$/,
    );
    expect(Buffer.compare(readFileSync(out), readFileSync(join(FIXTURES, 'small.safetensors')))).toBe(0);
  });

  it('--json prints the summary as JSON', async () => {
    const out = join(dir, 'all.safetensors');
    const result = await runCli(['convert', join(FIXTURES, 'all_dtypes.safetensors'), '-o', out, '--json']);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ output: out, format: 'safetensors', tensors: 17, shared: {} });
    expect(summary.bytes).toBe(readFileSync(out).length - 8 - Number(readFileSync(out).readBigUInt64LE(0)));
    expect(typeof summary.seconds).toBe('number');
  });

  it('bad input: one line on stderr, exit 2, no output file', async () => {
    writeFileSync(
      join(dir, 'meta.safetensors'),
      Buffer.concat([Buffer.from([24, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"__metadata__":{"a":1}}')]),
    );
    const out = join(dir, 'out', 'never.safetensors');
    const result = await runCli(['convert', join(dir, 'meta.safetensors'), '-o', out]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^ferry convert: FERRY_SAFETENSORS_METADATA: .*meta\.safetensors: __metadata__ must map strings to strings/,
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(dir)).not.toContain('out');
  });

  it('a file no format recognises, a missing file, and missing -o are errors with exit 2', async () => {
    writeFileSync(join(dir, 'junk.bin'), 'not a model');
    const junk = await runCli(['convert', join(dir, 'junk.bin'), '-o', join(dir, 'x.safetensors')]);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain('FERRY_UNKNOWN_FORMAT');
    const missing = await runCli(['convert', join(dir, 'nope'), '-o', join(dir, 'x.safetensors')]);
    expect(missing.stderr).toContain('FERRY_NOT_FOUND');
    const usage = await runCli(['convert', join(FIXTURES, 'small.safetensors')]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('convert needs -o OUT');
    expect(readdirSync(dir)).not.toContain('x.safetensors');
  });
});
