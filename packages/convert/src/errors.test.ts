import { readFileSync } from 'node:fs';
import { ERRORS } from '@ferry/formats';
import { describe, expect, it } from 'vitest';
import { CONVERT_ERRORS, ConvertError, convertError } from './errors.js';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const start = docs.indexOf('## @ferry/convert');
const section = docs.slice(start, docs.indexOf('\n## ', start + 1));
const documented = new Set([...section.matchAll(/^#### (FERRY_[A-Z0-9_]+)\s*$/gm)].map((m) => m[1]));

describe('convert error table', () => {
  it.each(Object.keys(CONVERT_ERRORS))('%s is documented in docs/errors.md under @ferry/convert', (code) => {
    expect(documented.has(code)).toBe(true);
  });

  it('documents no code the table lacks, and shares none with formats', () => {
    expect([...documented].filter((code) => !(code! in CONVERT_ERRORS))).toEqual([]);
    expect(Object.keys(CONVERT_ERRORS).filter((code) => code in ERRORS)).toEqual([]);
  });

  it('fills the template and keeps the code and status', () => {
    const error = convertError('FERRY_ONNX_REPLACE_MISSING', { path: 'm.onnx', tensor: 'fc.weight' });
    expect(error).toBeInstanceOf(ConvertError);
    expect(error.message).toBe('m.onnx: initializer fc.weight has no replacement tensor');
    expect(error.http).toBe(400);
    expect(error.permanent).toBe(true);
  });
});
