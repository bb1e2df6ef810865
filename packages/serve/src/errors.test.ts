import { describe, expect, it } from 'vitest';
import { SERVE_ERRORS, ServeError, serveError } from './errors.js';

describe('serve error table', () => {
  it('every code follows the naming rule and has a sane HTTP status', () => {
    for (const [code, spec] of Object.entries(SERVE_ERRORS)) {
      expect(code).toMatch(/^FERRY_SERVE_[A-Z0-9_]+$/);
      expect([400, 401, 404, 413, 500, 503]).toContain(spec.http);
    }
  });

  it('fills the template and keeps the code and status', () => {
    const error = serveError('FERRY_SERVE_OVERLOADED', { model: 'm', version: '2', limit: 8 });
    expect(error).toBeInstanceOf(ServeError);
    expect(error.message).toBe('model m version 2: queue is full (8 requests waiting)');
    expect(error.http).toBe(503);
    expect(error.permanent).toBe(false);
  });
});
