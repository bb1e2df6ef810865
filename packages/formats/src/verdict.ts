import { findingClass } from './finding-kinds.js';
import type { Finding } from './model.js';

/**
 * A scan's verdict on one file (docs/security.md, "Verdicts"):
 * - `unsafe`: loading it can run code or touch files or the network (a serious finding of class
 *   `code` or `hidden`, finding-kinds.ts);
 * - `invalid`: read whole and nothing runs, but it breaks its format's rules or is non-standard
 *   (a serious finding of class `invalid` and none that is unsafe);
 * - `error`: not read to its end or not recognised, so nothing is known (fail closed);
 * - `safe`: read whole, nothing serious; low and info findings are shown as warnings.
 */
export type Verdict = 'safe' | 'invalid' | 'unsafe' | 'error';

/** Worst first: the verdict of many files is the first of these any has. */
export const VERDICT_ORDER: readonly Verdict[] = ['unsafe', 'error', 'invalid', 'safe'];

/** Serious enough to decide a verdict; low and info findings are warnings. */
const serious = (f: Finding) => f.severity === 'critical' || f.severity === 'high' || f.severity === 'medium';

/** A finding that makes a file unsafe: serious, and of a kind that runs code or hides what runs. */
export function isUnsafeFinding(f: Finding): boolean {
  const kind = findingClass(f.rule);
  return serious(f) && (kind === 'code' || kind === 'hidden');
}

/** True when any finding makes the file unsafe. */
export function isUnsafe(findings: readonly Finding[]): boolean {
  return findings.some(isUnsafeFinding);
}

/** The verdict findings alone give a file that was read whole. */
export function verdictOf(findings: readonly Finding[]): 'safe' | 'invalid' | 'unsafe' {
  if (isUnsafe(findings)) return 'unsafe';
  return findings.some((f) => serious(f) && findingClass(f.rule) === 'invalid') ? 'invalid' : 'safe';
}

/** The worse of two verdicts. */
export function worse(a: Verdict, b: Verdict): Verdict {
  return VERDICT_ORDER.indexOf(a) <= VERDICT_ORDER.indexOf(b) ? a : b;
}
