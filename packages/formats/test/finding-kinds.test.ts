import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FINDING_KINDS, findingClass } from '../src/finding-kinds.js';
import type { Finding } from '../src/model.js';
import { verdictOf } from '../src/verdict.js';

// Issue #18 item 2: every kind of finding has one class, so "unsafe" means "runs code, touches
// files or the network" and a merely broken file is "invalid". These checks keep the table in
// finding-kinds.ts, the scanners and docs/security.md in step.
const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const DOCS = fileURLToPath(new URL('../../../docs/security.md', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every rule name a scanner can put in a finding, read from the scanners' source. */
function emittedRules(): Set<string> {
  const rules = new Set<string>();
  for (const path of sources(SRC)) {
    const file = relative(SRC, path);
    // external-data.ts passes `rule` to an error message, not a finding; the table is not a scanner
    if (file === 'onnx/external-data.ts' || file === 'finding-kinds.ts') continue;
    const text = readFileSync(path, 'utf8');
    // checkModel's problems become findings named onnx-check/<rule> (onnx/handler.ts)
    const prefix = file === 'onnx/check.ts' ? 'onnx-check/' : '';
    for (const m of text.matchAll(/\brule: '([a-z0-9-]+)'/g)) rules.add(prefix + m[1]);
    for (const m of text.matchAll(
      /\b(?:note|add|anomaly)\(\s*'(?:critical|high|medium|low|info)',\s*'([a-z0-9-]+)'/g,
    ))
      rules.add(prefix + m[1]);
  }
  return rules;
}

const finding = (rule: string, severity: Finding['severity'] = 'medium'): Finding => ({
  rule,
  severity,
  message: rule,
});

describe('finding kinds', () => {
  it('every rule a scanner emits is classified, and every classified rule is emitted', () => {
    const emitted = emittedRules();
    expect(emitted.size).toBeGreaterThan(50);
    expect([...emitted].filter((rule) => !Object.hasOwn(FINDING_KINDS, rule)).sort()).toEqual([]);
    expect(
      Object.keys(FINDING_KINDS)
        .filter((rule) => !emitted.has(rule))
        .sort(),
    ).toEqual([]);
  });

  it('docs/security.md lists every rule in the row of its class', () => {
    const docs = readFileSync(DOCS, 'utf8');
    const rows = new Map<string, string>();
    for (const m of docs.matchAll(/^\| `(code|hidden|invalid|note)` \| (.*) \|$/gm)) rows.set(m[1]!, m[2]!);
    expect([...rows.keys()].sort()).toEqual(['code', 'hidden', 'invalid', 'note']);
    for (const [rule, kind] of Object.entries(FINDING_KINDS)) {
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
