import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUNDLE_ERRORS, BundleError, BundleManifestError, bundleError } from './errors.js';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
const section = docs.slice(docs.indexOf('## @ferry/bundle'));
const documented = new Set([...section.matchAll(/^#### (FERRY_[A-Z0-9_]+)\s*$/gm)].map((m) => m[1]));

describe('bundle error table', () => {
  it.each(Object.keys(BUNDLE_ERRORS))('%s is documented in docs/errors.md under @ferry/bundle', (code) => {
    expect(documented.has(code)).toBe(true);
  });

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
