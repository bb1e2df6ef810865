import { createHash, timingSafeEqual } from 'node:crypto';
import { serveError } from '../errors.js';

/**
 * Checks `Authorization: Bearer TOKEN` in constant time. Both sides are hashed first so the
 * comparison takes the same time whatever the lengths (CWE-208: timing side channel).
 */
export function checkBearer(header: string | undefined, token: string): void {
  const given = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  if (given === undefined || !timingSafeEqual(digest(given), digest(token)))
    throw serveError('FERRY_SERVE_UNAUTHORIZED', {
      reason: 'the repository routes need Authorization: Bearer <token> with the server token',
    });
}
