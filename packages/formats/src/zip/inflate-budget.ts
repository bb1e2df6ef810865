import { ferryError } from '../errors.js';
import { MAX_INFLATE_RATIO, MAX_INFLATE_RATIO_GRACE_BYTES, MAX_INFLATED_TOTAL } from './limits.js';

/**
 * Bytes that may still be inflated, shared by every member and nesting level of one scan: a bomb
 * spread over many members (overlapping entries) or levels (42.zip) runs it down as one (CWE-409).
 */
export class InflateBudget {
  private used = 0;
  constructor(readonly limit = MAX_INFLATED_TOTAL) {}

  get remaining(): number {
    return this.limit - this.used;
  }

  /** Counts `bytes` of output; over the budget is FERRY_LIMIT naming the member being inflated. */
  charge(bytes: number, path: string): void {
    this.used += bytes;
    if (this.used > this.limit) throw this.over(path, this.used);
  }

  /** Refuses up front what would certainly go over (a member declaring more than is left). */
  check(bytes: number, path: string): void {
    if (this.used + bytes > this.limit) throw this.over(path, this.used + bytes);
  }

  private over(path: string, value: number) {
    return ferryError('FERRY_LIMIT', {
      path,
      what: 'bytes inflated from zip members (all members and nested archives together)',
      value: `${value}`,
      limit: this.limit,
      reason: `MAX_INFLATED_TOTAL or MAX_INFLATE_RATIO ${MAX_INFLATE_RATIO}:1 of the file, CWE-409`,
    });
  }
}

/**
 * The budget for scanning one file of `fileSize` bytes: MAX_INFLATED_TOTAL, and no more than
 * MAX_INFLATE_RATIO times the file (plus the grace), which an honest archive, whose members each
 * stay under deflate's ceiling and share no bytes, never exceeds.
 */
export function scanInflateBudget(fileSize: number): InflateBudget {
  return new InflateBudget(
    Math.min(MAX_INFLATED_TOTAL, MAX_INFLATE_RATIO_GRACE_BYTES + fileSize * MAX_INFLATE_RATIO),
  );
}
