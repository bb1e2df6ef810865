import { MAX_PATH_BYTES, MAX_PATH_DEPTH } from '../limits.js';

/** Paths inside a bundle that ferry writes itself; a project may not name files there. */
export const RESERVED_PREFIXES = ['.ferry/', 'node_modules/'] as const;

/**
 * Why a bundle-relative path is refused, or undefined when it is fine: relative, '/'-separated,
 * no '.', '..' or empty segments, no backslash, NUL or control characters (CWE-22 path traversal,
 * and names that would differ between Linux and Windows checkouts).
 */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'must not be empty';
  if (Buffer.byteLength(path) > MAX_PATH_BYTES)
    return `must be at most ${MAX_PATH_BYTES} bytes (MAX_PATH_BYTES)`;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'must be relative to the project folder';
  if (path.includes('\\')) return 'must use / as separator (no backslash)';
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'must not contain control characters';
  const segments = path.split('/');
  if (segments.length > MAX_PATH_DEPTH)
    return `must be at most ${MAX_PATH_DEPTH} folders deep (MAX_PATH_DEPTH)`;
  for (const segment of segments) {
    if (segment === '' || segment === '.') return 'must not contain empty or "." segments';
    if (segment === '..') return 'must stay inside the project folder (no "..")';
  }
  return undefined;
}

/** Like pathProblem, and also refuses the folders ferry writes into a bundle itself. */
export function projectPathProblem(path: string): string | undefined {
  const problem = pathProblem(path);
  if (problem) return problem;
  for (const prefix of RESERVED_PREFIXES)
    if (path === prefix.slice(0, -1) || path.startsWith(prefix))
      return `must not be under ${prefix} (ferry writes that folder itself)`;
  return undefined;
}
