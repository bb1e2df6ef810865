import { isIP } from 'node:net';
import { registryError } from '../errors.js';
import { AUTH_FAILURE_WINDOW_MS, MAX_AUTH_FAILURES, MAX_AUTH_TRACKED_CLIENTS } from '../limits.js';

export interface AuthLimiterOptions {
  /** Failed authentications per client per window before 429 (default MAX_AUTH_FAILURES). */
  readonly maxFailures?: number;
  /** The sliding window (default AUTH_FAILURE_WINDOW_MS). */
  readonly windowMs?: number;
  /** The clock, in ms (tests move it instead of sleeping through a window). */
  readonly now?: () => number;
  /** Clients remembered at once (default MAX_AUTH_TRACKED_CLIENTS). */
  readonly maxClients?: number;
}

/**
 * Counts failed authentications per client address in a sliding window (CWE-307: brute force).
 * Only a request that fails to authenticate is ever throttled: a valid token is checked first and
 * always admitted, so nobody's bad tokens (a stale token in a script on the same host, an attacker
 * behind the same NAT) lock out a caller that holds a good one (issue #24: `ferry up`'s own polling
 * and the admin CLI were locked out). Guessing stays useless: a token holds 256 random bits.
 * Memory is bounded: at most `maxClients` addresses, each with at most `maxFailures` times; the
 * least recently failing address is forgotten first (CWE-770).
 */
export class AuthFailureLimiter {
  /** Insertion order is recency: a failing client is moved to the end. */
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private readonly maxClients: number;

  constructor(options: AuthLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? MAX_AUTH_FAILURES;
    this.windowMs = options.windowMs ?? AUTH_FAILURE_WINDOW_MS;
    this.now = options.now ?? Date.now;
    this.maxClients = options.maxClients ?? MAX_AUTH_TRACKED_CLIENTS;
  }

  /**
   * Records one failure of `client`; throws 429 (with the seconds until the oldest failure leaves
   * the window) when the client is already at the limit, so the caller sees 429 instead of 401.
   */
  fail(client: string): void {
    const now = this.now();
    const recent = (this.failures.get(client) ?? []).filter((t) => t > now - this.windowMs);
    this.failures.delete(client);
    if (recent.length >= this.maxFailures) {
      this.failures.set(client, recent);
      const seconds = Math.ceil((recent[0]! + this.windowMs - now) / 1000);
      throw registryError('FERRY_REGISTRY_RATE_LIMITED', { client, seconds: Math.max(1, seconds) });
    }
    recent.push(now);
    this.failures.set(client, recent);
    while (this.failures.size > this.maxClients) this.failures.delete(this.failures.keys().next().value!);
  }

  /** How many clients are remembered (for tests of the bound). */
  get tracked(): number {
    return this.failures.size;
  }
}

/**
 * The key failures are counted under: an IPv4 address, or an IPv6 address's /64 (one host usually
 * holds a whole /64 and could otherwise rotate through 2^64 addresses, RFC 4291 section 2.5.1).
 * IPv4-mapped IPv6 (::ffff:a.b.c.d, a dual-stack socket's IPv4 peer) counts as the IPv4 address.
 */
export function failureKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
