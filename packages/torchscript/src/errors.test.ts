import { describe, expect, it } from 'vitest';
import { TORCHSCRIPT_ERRORS, TorchScriptError, torchscriptError } from './errors.js';

describe('torchscript error table', () => {
  it('every code follows the naming rule and has a sane HTTP status', () => {
    for (const [code, spec] of Object.entries(TORCHSCRIPT_ERRORS)) {
      expect(code).toMatch(/^FERRY_TORCHSCRIPT_[A-Z0-9_]+$/);
      expect([400, 500, 503]).toContain(spec.http);
    }
  });

  it('fills the template on one line and keeps code and status', () => {
    const error = torchscriptError('FERRY_TORCHSCRIPT_LOAD', { path: 'm.pt', reason: 'first\nsecond' });
    expect(error).toBeInstanceOf(TorchScriptError);
    expect(error.message).toBe('m.pt: cannot load the TorchScript module: first');
    expect(error.http).toBe(400);
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('FERRY_TORCHSCRIPT_LOAD');
  });
});
