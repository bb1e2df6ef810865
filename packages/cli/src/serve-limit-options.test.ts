import { describe, expect, it } from 'vitest';
import { serveLimits } from './serve-limit-options.js';

const parse = (values: Record<string, string>) => serveLimits({ positionals: [], values });

describe('serve limit flags', () => {
  it('turns seconds into milliseconds and reads byte sizes with units', () => {
    expect(
      parse({
        'headers-timeout': '2.5',
        'request-timeout': '30',
        'keep-alive-timeout': '1',
        'drain-timeout': '10',
        'max-connections': '200',
        'max-inflight-bytes': '64MiB',
        'max-variable-dim': '512',
      }),
    ).toEqual({
      headersTimeoutMs: 2500,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 1000,
      drainTimeoutMs: 10_000,
      maxConnections: 200,
      maxInflightBytes: 64 * 2 ** 20,
      maxVariableDim: 512,
    });
    expect(parse({ 'max-inflight-bytes': '1000' })).toEqual({ maxInflightBytes: 1000 });
    expect(parse({})).toEqual({});
  });

  it('refuses values that are not positive numbers, one line naming the flag', () => {
    expect(() => parse({ 'request-timeout': '0' })).toThrow(
      '--request-timeout must be a number of seconds, > 0 and at most 86400 (got 0)',
    );
    expect(() => parse({ 'drain-timeout': '-1' })).toThrow(/^--drain-timeout must be/);
    expect(() => parse({ 'max-connections': '1e3' })).toThrow(
      '--max-connections must be an integer 1-1000000 (got 1e3)',
    );
    expect(() => parse({ 'max-inflight-bytes': '1TB' })).toThrow(
      '--max-inflight-bytes must be a byte count like 536870912 or 512MiB (got 1TB)',
    );
  });
});
