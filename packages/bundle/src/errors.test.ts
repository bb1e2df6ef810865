import { describe, expect, it } from 'vitest';
import { BUNDLE_ERRORS, BundleError, BundleManifestError, bundleError } from './errors.js';

describe('bundle error table', () => {
  it('every code follows the naming rule and has a sane HTTP status', () => {
    for (const [code, spec] of Object.entries(BUNDLE_ERRORS)) {
      expect(code).toMatch(/^FERRY_BUNDLE_[A-Z0-9_]+$/);
      expect([400, 500]).toContain(spec.http);
    }
  });

  it('fills the template; a manifest error keeps every problem', () => {
    const a = bundleError('FERRY_BUNDLE_YAML', { path: 'ferry.yaml:3', field: 'name', rule: 'is required' });
    const b = bundleError('FERRY_BUNDLE_YAML', {
      path: 'ferry.yaml:4',
      field: 'version',
      rule: 'is required',
    });
    expect(a).toBeInstanceOf(BundleError);
    expect(a.message).toBe('ferry.yaml:3: name: is required');
    const all = new BundleManifestError([a, b]);
    expect(all.code).toBe('FERRY_BUNDLE_YAML');
    expect(all.message).toBe('ferry.yaml:3: name: is required (and 1 more problem(s))');
    expect(all.problems).toEqual([a, b]);
  });
});
