import type { H2Headers } from './lean-h2-stream.js';

/** The header list (names, values, 32 each) a client may send: SETTINGS_MAX_HEADER_LIST_SIZE. */
export const MAX_HEADER_LIST_BYTES = 64 * 1024;

/**
 * The request's fields as node:http2 gives them (pseudo-headers and all, repeated names joined
 * with ', '), or undefined where RFC 9113 8.2-8.3 make the request malformed (a stream error):
 * an upper-case name, a pseudo-header after a regular one, unknown or repeated, a list over
 * MAX_HEADER_LIST_BYTES, or a connection-specific field.
 */
export function headerObject(fields: readonly (readonly [string, string])[]): H2Headers | undefined {
  const headers: Record<string, string> = Object.create(null);
  let listBytes = 0;
  let regular = false;
  for (const [name, value] of fields) {
    listBytes += name.length + value.length + 32;
    if (listBytes > MAX_HEADER_LIST_BYTES || name.length === 0 || name !== name.toLowerCase())
      return undefined;
    if (name.charCodeAt(0) === 0x3a) {
      if (regular || name in headers || !PSEUDO.has(name)) return undefined;
      headers[name] = value;
      continue;
    }
    regular = true;
    if (CONNECTION_SPECIFIC.has(name) || (name === 'te' && value !== 'trailers')) return undefined;
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  if (headers[':method'] === undefined || headers[':path'] === undefined || headers[':scheme'] === undefined)
    return undefined;
  return headers;
}

const PSEUDO = new Set([':method', ':scheme', ':authority', ':path']);
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);
