import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FINDING_KINDS, type FindingRule, findingClass, severityOf } from '../src/finding-kinds.js';
import { inspectModel } from '../src/inspect.js';
import type { Finding } from '../src/model.js';
import { scanPath } from '../src/scan.js';
import { verdictOf } from '../src/verdict.js';

// One table (finding-kinds.ts) gives every kind of finding its severity (issue #22.5: one per
// kind, whatever the command) and its class (issue #18.2: "unsafe" means runs code, touches
// files or the network; a merely broken file is "invalid"). These checks keep the table, the
// scanners and docs/security.md in step; TypeScript checks every rule a scanner makes is a kind.
const SRC = new URL('../src/', import.meta.url).pathname;
const FIXTURES = new URL('../../../fixtures/', import.meta.url).pathname;
const DOCS = new URL('../../../docs/security.md', import.meta.url).pathname;

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
    const unused = Object.keys(FINDING_KINDS).filter(
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

const finding = (rule: string, severity: Finding['severity'] = 'medium'): Finding => ({
  rule,
  severity,
  message: rule,
});

describe('finding classes (issue #18.2)', () => {
  it('docs/security.md lists every rule in the row of its class', () => {
    const docs = readFileSync(DOCS, 'utf8');
    const rows = new Map<string, string>();
    for (const m of docs.matchAll(/^\| `(code|hidden|invalid|note)` \| (.*) \|$/gm)) rows.set(m[1]!, m[2]!);
    expect([...rows.keys()].sort()).toEqual(['code', 'hidden', 'invalid', 'note']);
    for (const [rule, { class: kind }] of Object.entries(FINDING_KINDS)) {
      const documented = [...rows].filter(([, row]) => row.includes(`\`${rule}\``)).map(([k]) => k);
      expect(documented, rule).toEqual([kind]);
    }
  });

  it('the ONNX checker problems, GGUF layout notes, zip CRCs and polyglots are structure, not code', () => {
    for (const rule of ['onnx-check/opset-missing', 'gguf-data-gap', 'zip-bad-crc', 'polyglot'])
      expect(findingClass(rule), rule).toBe('invalid');
  });

  it('a rule nobody classified counts as code (fail closed)', () => {
    expect(findingClass('a-new-scanner-rule')).toBe('code');
    expect(findingClass('constructor')).toBe('code'); // not an Object.prototype key
    expect(verdictOf([finding('a-new-scanner-rule')])).toBe('unsafe');
  });
});

describe('verdictOf', () => {
  it('serious code or hidden findings are unsafe, serious invalid ones invalid, the rest safe', () => {
    expect(verdictOf([])).toBe('safe');
    expect(verdictOf([finding('onnx-check/opset-missing')])).toBe('invalid');
    expect(verdictOf([finding('zip-encrypted', 'high')])).toBe('unsafe');
    expect(verdictOf([finding('unknown-global')])).toBe('unsafe');
    expect(verdictOf([finding('onnx-check/ssa'), finding('dangerous-call', 'critical')])).toBe('unsafe');
    // low and info are warnings whatever their class
    expect(verdictOf([finding('savedmodel-asset-read-op', 'low'), finding('gguf-data-gap', 'low')])).toBe(
      'safe',
    );
    expect(verdictOf([finding('torchscript-code', 'info')])).toBe('safe');
    // a note never decides, even at medium
    expect(verdictOf([finding('member-not-scanned')])).toBe('safe');
  });
});
