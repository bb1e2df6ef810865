import { registryError } from '../errors.js';
import type { ByteRange } from '../store/blob-store.js';

/**
 * One `bytes=` range (RFC 9110 14.1.2): `a-b`, `a-`, `-n`. Several ranges are answered with the
 * whole file (allowed: a server may ignore Range). Undefined means "send everything".
 */
export function parseRange(header: string | undefined, size: number, what: string): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size)
    throw registryError('FERRY_REGISTRY_RANGE', { what, range: header, size });
  return { start, end };
}
