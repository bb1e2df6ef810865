/**
 * Request body bytes held by all requests at once, REST and gRPC together (CWE-770): issue #24
 * measured six unfinished 240 MB bodies at 1.6 GB of RSS, since each request was bounded but
 * their sum was not. A reservation that would pass the budget is refused; the caller answers 503.
 */
export class InflightBudget {
  #held = 0;

  constructor(readonly limit: number) {}

  get held(): number {
    return this.#held;
  }

  /** Takes n bytes if they fit; false (nothing taken) if they would pass the limit. */
  reserve(n: number): boolean {
    if (this.#held + n > this.limit) return false;
    this.#held += n;
    return true;
  }

  release(n: number): void {
    this.#held = Math.max(0, this.#held - n);
  }
}
