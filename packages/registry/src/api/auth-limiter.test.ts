import { describe, expect, it } from 'vitest';
import { AuthFailureLimiter, failureKey } from './auth-limiter.js';

describe('AuthFailureLimiter', () => {
  it('answers 429 past the limit, with the seconds until the oldest failure leaves the window', () => {
    let now = 1_000_000;
    const limiter = new AuthFailureLimiter({ maxFailures: 3, windowMs: 10_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      limiter.fail('10.0.0.1');
      now += 1000;
    }
    expect(() => limiter.fail('10.0.0.1')).toThrow(
      /too many failed authentications from 10\.0\.0\.1; retry in 7 s/,
    );
    // Another address is not affected.
    expect(() => limiter.fail('10.0.0.2')).not.toThrow();
    now += 7001;
    expect(() => limiter.fail('10.0.0.1')).not.toThrow();
  });

  it('remembers at most maxClients addresses, dropping the least recently failing one', () => {
    const limiter = new AuthFailureLimiter({ maxFailures: 1, maxClients: 100 });
    for (let i = 0; i < 5000; i++) limiter.fail(`client-${i}`);
    expect(limiter.tracked).toBe(100);
    // The newest ones are still limited; the oldest were forgotten.
    expect(() => limiter.fail('client-4999')).toThrow(/too many/);
    expect(() => limiter.fail('client-0')).not.toThrow();
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped one by its IPv4 address', () => {
    expect(failureKey('203.0.113.7')).toBe('203.0.113.7');
    expect(failureKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(failureKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(failureKey('2001:0db8:0001:0002:ffff:eeee:dddd:cccc')).toBe('2001:db8:1:2::/64');
    expect(failureKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(failureKey('::1')).toBe('0:0:0:0::/64');
    expect(failureKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
