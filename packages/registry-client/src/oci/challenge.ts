/** Most parameters a challenge may carry; real ones have three or four (CWE-770). */
const MAX_CHALLENGE_PARAMS = 16;
/** Longest WWW-Authenticate header parsed. */
const MAX_CHALLENGE_BYTES = 8192;

export interface Challenge {
  /** Lower-case: `basic`, `bearer`, ... */
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * The first challenge of a WWW-Authenticate header (RFC 7235 section 4.1): `Bearer
 * realm="https://auth/token",service="registry",scope="repository:a/b:pull"` or `Basic
 * realm="..."`. Quoted values may hold commas and backslash escapes.
 */
export function parseChallenge(header: string): Challenge | undefined {
  if (header.length > MAX_CHALLENGE_BYTES) return undefined;
  const head = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)\s*/.exec(header);
  if (!head) return undefined;
  const params: Record<string, string> = {};
  const param = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,\s*|$)/y;
  param.lastIndex = head[0].length;
  let count = 0;
  for (let m = param.exec(header); m; m = param.exec(header)) {
    if (++count > MAX_CHALLENGE_PARAMS) break;
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
    if (param.lastIndex >= header.length) break;
  }
  return { scheme: head[1]!.toLowerCase(), params };
}
