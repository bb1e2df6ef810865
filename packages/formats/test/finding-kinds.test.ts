import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FINDING_SEVERITY, type FindingRule, severityOf } from '../src/finding-kinds.js';
import { inspectModel } from '../src/inspect.js';
import { scanPath } from '../src/scan.js';

const SRC = new URL('../src/', import.meta.url).pathname;
const FIXTURES = new URL('../../../fixtures/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('one severity per finding kind (issue #22.5)', () => {
  it('no source file but finding-kinds.ts writes a severity', () => {
    const offenders = sources(SRC)
      .filter((f) => !f.endsWith('finding-kinds.ts'))
      .filter((f) =>
        /severity:\s*'|\b(note|anomaly|add)\(\s*'(critical|high|medium|low|info)'/.test(
          readFileSync(f, 'utf8'),
        ),
      );
    expect(offenders.map((f) => f.slice(SRC.length))).toEqual([]);
  });

  it('every kind in the table is made somewhere in the source', () => {
    const text = sources(SRC)
      .filter((f) => !f.endsWith('finding-kinds.ts'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const unused = Object.keys(FINDING_SEVERITY).filter(
      (kind) => !text.includes(`'${kind}'`) && !text.includes(`\`${kind}/`),
    );
    expect(unused).toEqual([]);
  });

  // Files whose findings once had a severity that depended on the command.
  const files = [
    'numpy/object.npy',
    'wild/numpy-py2/py2-np0-objarr.npy',
    'wild/numpy-py2/py2-objarr.npz',
    'wild/joblib-data/joblib_0.9.2_pickle_py27_np17.pkl_03.npy',
    'pickle/joblib/arrays.joblib',
    'pickle/torch/state_dict_legacy.pt',
  ];
  it.each(files)('%s: scan and inspect report the same findings, each at its kind severity', async (file) => {
    const scan = await scanPath(FIXTURES + file);
    const inspected = await inspectModel(FIXTURES + file, { unsafeInspect: true });
    const key = (f: { severity: string; rule: string }) => `${f.rule} ${f.severity}`;
    for (const f of [...scan.findings, ...(inspected.findings ?? [])]) {
      expect(f.severity, f.rule).toBe(severityOf(f.rule as FindingRule));
    }
    expect(new Set((inspected.findings ?? []).map(key))).toEqual(new Set(scan.findings.map(key)));
  });
});
