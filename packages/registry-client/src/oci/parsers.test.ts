import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../errors.js';
import { parseChallenge } from './challenge.js';
import { receivedBytes, referrersTag } from './client.js';
import { formatOciReference, isOciReference, parseOciReference } from './reference.js';

describe('parseOciReference', () => {
  it('splits host, repository, tag and digest; plain HTTP only for loopback', () => {
    expect(parseOciReference('oci://127.0.0.1:5000/ml/sentiment:1.0.0')).toEqual({
      endpoint: 'http://127.0.0.1:5000',
      host: '127.0.0.1:5000',
      repository: 'ml/sentiment',
      tag: '1.0.0',
    });
    expect(parseOciReference('oci://ghcr.io/acme/models/sentiment')).toEqual({
      endpoint: 'https://ghcr.io',
      host: 'ghcr.io',
      repository: 'acme/models/sentiment',
    });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseOciReference(`oci+http://lab:5000/x@${digest}`)).toMatchObject({
      endpoint: 'http://lab:5000',
      repository: 'x',
      digest,
    });
    expect(parseOciReference('ocis://localhost:5000/x:t').endpoint).toBe('https://localhost:5000');
    expect(formatOciReference(parseOciReference('oci://h:1/a/b:t'))).toBe('oci://h:1/a/b:t');
    expect(isOciReference('oci://h/x')).toBe(true);
    expect(isOciReference('models:/x@prod')).toBe(false);
  });

  it.each([
    ['oci://host', /expected oci:\/\/HOST/],
    ['oci://host/UPPER:tag', /lowercase path components/],
    ['oci://host/a:-bad', /tag "-bad"/],
    ['oci://host/a@sha256:12', /not sha256:<64 hex>/],
    ['http://host/a:b', /expected oci:\/\/HOST/],
  ])('refuses %s', (value, message) => {
    expect(() => parseOciReference(value)).toThrow(message);
  });

  it('throws only registry errors on any string (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `oci://${s}`),
        ),
        (value) => {
          try {
            parseOciReference(value);
          } catch (error) {
            expect(isRegistryError(error)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('parseChallenge', () => {
  it('reads Docker-style Bearer and Basic challenges', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:a/b:pull,push',
      },
    });
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({
      scheme: 'basic',
      params: { realm: 'Registry Realm' },
    });
    expect(parseChallenge('Bearer realm="a\\"b", error=insufficient_scope')?.params).toEqual({
      realm: 'a"b',
      error: 'insufficient_scope',
    });
    expect(parseChallenge('')).toBeUndefined();
    expect(parseChallenge('x'.repeat(9000))).toBeUndefined();
  });

  it('never throws (fuzz: random headers and mutations of a real one)', () => {
    const real = 'Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"';
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .tuple(fc.nat(real.length), fc.nat(real.length), fc.string())
            .map(([a, b, s]) => real.slice(0, a) + s + real.slice(b)),
        ),
        (header) => {
          const parsed = parseChallenge(header);
          if (parsed) expect(Object.keys(parsed.params).length).toBeLessThanOrEqual(16);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('upload offsets and referrer tags', () => {
  it('reads distribution Range headers (0-0 is 0 or 1 byte)', () => {
    expect(receivedBytes('0-99')).toEqual([100]);
    expect(receivedBytes('bytes=0-0')).toEqual([0, 1]);
    expect(receivedBytes(null)).toEqual([0]);
    expect(receivedBytes('junk')).toEqual([0]);
  });
  it('names the referrers tag <alg>-<hex>', () => {
    expect(referrersTag(`sha256:${'b'.repeat(64)}`)).toBe(`sha256-${'b'.repeat(64)}`);
  });
});
