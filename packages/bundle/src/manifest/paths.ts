import { MAX_PATH_BYTES, MAX_PATH_DEPTH } from '../limits.js';

/** The folder inside a bundle that ferry writes itself (the manifest). */
export const RESERVED_PREFIX = '.ferry/';

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

/** Like pathProblem, and also refuses the folders ferry fills itself (.ferry/, node_modules). */
export function projectPathProblem(path: string): string | undefined {
  const problem = pathProblem(path);
  if (problem) return problem;
  if (path === RESERVED_PREFIX.slice(0, -1) || path.startsWith(RESERVED_PREFIX))
    return `must not be under ${RESERVED_PREFIX} (ferry writes that folder itself)`;
  if (path.split('/').includes('node_modules'))
    return 'must not be inside a node_modules folder (ferry installs the handler dependencies from its lock file)';
  return undefined;
}
