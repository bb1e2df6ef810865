import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REGISTRY_ERRORS, RegistryError, registryError } from './errors.js';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const section = docs.slice(docs.indexOf('## @ferry/registry'));
const documented = new Set([...section.matchAll(/^#### (FERRY_[A-Z0-9_]+)\s*$/gm)].map((m) => m[1]));

describe('registry error table', () => {
  it.each(Object.keys(REGISTRY_ERRORS))(
    '%s is documented under @ferry/registry in docs/errors.md',
    (code) => {
      expect(documented.has(code)).toBe(true);
    },
  );

  it('codes follow the naming rule and map to HTTP error statuses', () => {
    for (const [code, spec] of Object.entries(REGISTRY_ERRORS)) {
      expect(code).toMatch(/^FERRY_REGISTRY_[A-Z0-9_]+$/);
      expect([400, 401, 403, 404, 409, 413, 416, 422, 429, 500, 503]).toContain(spec.http);
    }
  });

  it('fills the template and keeps the code', () => {
    const error = registryError('FERRY_REGISTRY_NOT_FOUND', { what: 'model', name: 'team/x' });
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.message).toBe('model team/x does not exist');
    expect(error.http).toBe(404);
  });
});
