import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BufferSource, type TensorRef, writeSafetensors } from '@ferry/formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-io.helper.js';

const FIXTURES = fileURLToPath(new URL('../../../../fixtures/safetensors/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const f32 = (name: string, shape: number[], values: number[]): TensorRef => {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  return { name, dtype: 'F32', shape, source: new BufferSource(bytes), offset: 0, byteLength: bytes.length };
};
const A = join(dir, 'a.safetensors');
const B = join(dir, 'b.safetensors');

beforeAll(async () => {
  await writeSafetensors(A, [f32('w', [2], [1, 2]), f32('b', [1], [0]), f32('gone', [1], [0])]);
  await writeSafetensors(B, [f32('w', [2], [1, 2.5]), f32('b', [1, 1], [0]), f32('new', [1], [0])]);
});

describe('ferry diff', () => {
  it('equal files: exit 0 and a table of matching tensors', async () => {
    const small = join(FIXTURES, 'small.safetensors');
    const result = await runCli(['diff', small, small]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('linear.weight');
    expect(result.stdout).toMatch(/equal: 3 tensors match\n$/);
  });

  it('different files: exit 1, table with values, shapes and missing names', async () => {
    const result = await runCli(['diff', A, B]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/w\s+different\s+F32\s+\[2\]\s+0\.5/);
    expect(result.stdout).toMatch(/b\s+shape-mismatch\s+F32\s+\[1\] \/ \[1, 1\]\s+-/);
    expect(result.stdout).toMatch(/gone\s+only in A/);
    expect(result.stdout).toMatch(/new\s+only in B/);
    expect(result.stdout).toContain('different: 2 of 2 shared tensors differ, 1 only in A, 1 only in B');
  });

  it('--json and --atol', async () => {
    const result = await runCli(['diff', A, B, '--json', '--atol', '1']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.atol).toBe(1);
    expect(report.tensors.find((t: { name: string }) => t.name === 'w')).toMatchObject({
      status: 'within-atol',
      maxAbsDiff: 0.5,
    });
    expect(report.onlyInA).toEqual(['gone']);
  });

  it('bad arguments and bad files exit 2 with one line', async () => {
    const atol = await runCli(['diff', A, B, '--atol=-1']);
    expect(atol.code).toBe(2);
    expect(atol.stderr).toContain('--atol must be a non-negative number');
    const one = await runCli(['diff', A]);
    expect(one.code).toBe(2);
    const missing = await runCli(['diff', A, join(dir, 'missing.safetensors')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('FERRY_NOT_FOUND');
  });
});
