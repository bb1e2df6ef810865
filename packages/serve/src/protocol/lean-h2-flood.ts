import { H2ConnectionError } from './h2-frames.js';

/**
 * A token bucket: `burst` events at once, then `perSecond` on average. The clock is read only
 * when an event comes, so an idle connection costs nothing.
 */
class Bucket {
  private tokens: number;
  private at = performance.now();

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.tokens = burst;
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.perSecond) / 1000);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * What a lean HTTP/2 connection lets a client make it do for nothing: streams reset right after
 * they open (the "rapid reset" attack, CVE-2023-44487: nghttp2's default is a burst of 1000 and
 * 33 a second), and frames that carry no request progress (PING, SETTINGS, PRIORITY, empty DATA,
 * frames of closed streams, unknown types). Over either, the connection ends with GOAWAY
 * ENHANCE_YOUR_CALM.
 */
export class FloodGuard {
  private readonly resets = new Bucket(1000, 33);
  private readonly frames = new Bucket(10_000, 1000);

  reset(): void {
    if (!this.resets.take()) throw new H2ConnectionError('ENHANCE_YOUR_CALM', 'too many stream resets');
  }

  unproductive(): void {
    if (!this.frames.take())
      throw new H2ConnectionError('ENHANCE_YOUR_CALM', 'too many frames without a request');
  }
}
