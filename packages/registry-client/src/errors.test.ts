import { describe, expect, it } from 'vitest';
import { REGISTRY_ERRORS, RegistryError, registryError } from './errors.js';

describe('registry error table', () => {
  it('codes follow the naming rule and map to HTTP error statuses', () => {
    for (const [code, spec] of Object.entries(REGISTRY_ERRORS)) {
      expect(code).toMatch(/^FERRY_REGISTRY_[A-Z0-9_]+$/);
      expect([400, 401, 403, 404, 409, 413, 416, 422, 429, 500, 503, 504]).toContain(spec.http);
    }
  });

  it('fills the template and keeps the code', () => {
    const error = registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'model', name: 'team/x' });
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.message).toBe('model team/x does not exist');
    expect(error.http).toBe(404);
  });
});
