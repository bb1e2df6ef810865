import { describe, expect, it } from 'vitest';
import { codeHasPrefix, defineErrors, FerryError, formatErrorMessage, isFerryError } from './define.js';
import { isFormatsError } from './formats.js';

const TABLE = {
  FERRY_DEMO_BAD: { message: '{path}: {reason}', http: 400, permanent: true },
  FERRY_DEMO_BUSY: { message: 'busy: {reason}', http: 503, permanent: false },
} as const;

describe('defineErrors', () => {
  const demo = defineErrors('FERRY_DEMO_', TABLE, { name: 'DemoError' });

  it('gives a class over the FerryError base, a factory and a guard of its own', () => {
    const error = demo.create('FERRY_DEMO_BUSY', { reason: 'queue full' });
    expect(error).toBeInstanceOf(demo.ErrorClass);
    expect(error).toBeInstanceOf(FerryError);
    expect(error.name).toBe('DemoError');
    expect(error.message).toBe('busy: queue full');
    expect([error.http, error.permanent]).toEqual([503, false]);
    expect(isFerryError(error)).toBe(true);
    expect(demo.is(error)).toBe(true);
    expect(isFormatsError(error)).toBe(false);
  });

  it("another table's guard does not claim its errors", () => {
    const other = defineErrors(
      'FERRY_OTHER_',
      { FERRY_OTHER_X: TABLE.FERRY_DEMO_BAD },
      { name: 'OtherError' },
    );
    const error = other.create('FERRY_OTHER_X', { path: 'p', reason: 'r' });
    expect(demo.is(error)).toBe(false);
    expect(other.is(error)).toBe(true);
  });

  it('refuses a table with a code outside its prefix', () => {
    expect(() => defineErrors('FERRY_DEMO_', { FERRY_ELSE: TABLE.FERRY_DEMO_BAD }, { name: 'X' })).toThrow(
      /FERRY_ELSE is outside/,
    );
    expect(codeHasPrefix('FERRY_B_X', ['FERRY_A_', 'FERRY_B_'])).toBe(true);
  });

  it('keeps the first line of each parameter when asked, and mirrors http as statusCode', () => {
    const lines = defineErrors('FERRY_DEMO_', TABLE, { name: 'D', oneLineParams: true, statusCode: true });
    const error = lines.create('FERRY_DEMO_BAD', { path: 'm.pt', reason: 'first\nsecond' });
    expect(error.message).toBe('m.pt: first');
    expect(error.params.reason).toBe('first\nsecond');
    expect(error.statusCode).toBe(400);
    expect('statusCode' in demo.create('FERRY_DEMO_BAD')).toBe(false);
  });

  it('leaves unknown placeholders as written', () => {
    expect(formatErrorMessage('{a} and {b}', { a: 1n })).toBe('1 and {b}');
  });
});
