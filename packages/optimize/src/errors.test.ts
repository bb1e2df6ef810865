import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTIMIZE_ERRORS, OptimizeError, optimizeError } from './errors.js';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const section = docs.slice(docs.indexOf('## @ferry/optimize'));
const ownSection = section.slice(
  0,
  section.indexOf('\n## ', 1) === -1 ? undefined : section.indexOf('\n## ', 1),
);
const documented = new Set([...ownSection.matchAll(/^#### (FERRY_[A-Z0-9_]+)\s*$/gm)].map((m) => m[1]));

describe('optimize error table', () => {
  it.each(Object.keys(OPTIMIZE_ERRORS))(
    '%s is documented in docs/errors.md under @ferry/optimize',
    (code) => {
      expect(documented.has(code)).toBe(true);
    },
  );

  it('documents no code the table lacks', () => {
    expect([...documented].filter((code) => !(code in OPTIMIZE_ERRORS))).toEqual([]);
  });

  it('every code follows the naming rule and has a sane HTTP status', () => {
    for (const [code, spec] of Object.entries(OPTIMIZE_ERRORS)) {
      expect(code).toMatch(/^FERRY_(OPTIMIZE|QUANTIZE|FP16)_[A-Z0-9_]+$/);
      expect([400, 500, 503]).toContain(spec.http);
    }
  });

  it('fills the template and keeps the code and status', () => {
    const error = optimizeError('FERRY_QUANTIZE_OPSET', {
      path: 'm.onnx',
      what: 'int8 quantization',
      needed: 10,
      opset: 9,
    });
    expect(error).toBeInstanceOf(OptimizeError);
    expect(error.message).toBe(
      'm.onnx: int8 quantization needs ai.onnx opset 10 or later, the model imports 9',
    );
    expect(error.http).toBe(400);
    expect(error.permanent).toBe(true);
  });
});
