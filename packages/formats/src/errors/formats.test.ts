import { describe, expect, it } from 'vitest';
import { FerryError, isFerryError } from './define.js';
import { ERRORS, FormatsError, ferryError, isFormatsError } from './formats.js';

describe('formats error table', () => {
  it('every code follows the naming rule and has a sane HTTP status', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^FERRY_[A-Z0-9_]+$/);
      expect([400, 404, 409, 413, 422, 500, 503]).toContain(spec.http);
      expect(spec.message.length).toBeGreaterThan(5);
    }
  });

  it('fills the template from the parameters and keeps the code', () => {
    const error = ferryError('FERRY_TRUNCATED', { path: 'm.bin', what: 'header', offset: 8, size: 4 });
    expect(error).toBeInstanceOf(FormatsError);
    expect(error).toBeInstanceOf(FerryError);
    expect(error.name).toBe('FerryError');
    expect(error.code).toBe('FERRY_TRUNCATED');
    expect(error.message).toBe('m.bin: header at byte 8 runs past the end of the data (4 bytes)');
    expect(error.permanent).toBe(true);
    expect(error.http).toBe(400);
    expect(isFormatsError(error) && isFerryError(error)).toBe(true);
  });

  it('keeps the cause', () => {
    const cause = new Error('EIO');
    const error = ferryError('FERRY_IO', { path: 'm.bin', reason: 'EIO' }, cause);
    expect(error.cause).toBe(cause);
    expect(error.permanent).toBe(false);
  });
});
