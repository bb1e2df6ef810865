import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, FerryError, ferryError } from './errors.js';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Set([...docs.matchAll(/^#### (FERRY_[A-Z0-9_]+)\s*$/gm)].map((m) => m[1]));

describe('error table', () => {
  it.each(Object.keys(ERRORS))('%s is documented in docs/errors.md', (code) => {
    expect(documented.has(code)).toBe(true);
  });

  it('every code follows the naming rule and has a sane HTTP status', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^FERRY_[A-Z0-9_]+$/);
      expect([400, 404, 409, 413, 422, 500, 503]).toContain(spec.http);
      expect(spec.message.length).toBeGreaterThan(5);
    }
  });

  it('fills the template from the parameters and keeps the code', () => {
    const error = ferryError('FERRY_TRUNCATED', { path: 'm.bin', what: 'header', offset: 8, size: 4 });
    expect(error).toBeInstanceOf(FerryError);
    expect(error.code).toBe('FERRY_TRUNCATED');
    expect(error.message).toBe('m.bin: header at byte 8 runs past the end of the data (4 bytes)');
    expect(error.permanent).toBe(true);
    expect(error.http).toBe(400);
  });
});
