import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The corpus of real files from public projects (issue #18): every checked-in file must still be
// the bytes its record in fixtures/wild/sources.json names, or tests that use it prove nothing.
const script = fileURLToPath(new URL('../../../fixtures/wild/check.mjs', import.meta.url));

describe('fixtures/wild corpus', () => {
  it('every checked-in file matches its recorded repository, commit and sha256', () => {
    const out = execFileSync(process.execPath, [script, '--json'], { encoding: 'utf8' });
    const report = JSON.parse(out) as { ok: boolean; results: { name: string; status: string }[] };
    expect(report.ok).toBe(true);
    const checked = report.results.filter((r) => r.status === 'verified').map((r) => r.name);
    expect(checked).toContain('custom_op_negpos.onnx');
    expect(checked).toContain('treecl.onnx');
  });
});
