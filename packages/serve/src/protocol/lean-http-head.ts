/**
 * The request heads the lean transport (lean-http-transport.ts) reads itself: a strict subset of
 * HTTP/1.1 (RFC 9112) that node's llhttp parser reads the same way, byte for byte. Anything outside
 * it is 'handoff': the connection goes to node:http, which decides. Request smuggling (CWE-444)
 * lives in the gap between two parsers, so this one refuses, rather than interprets, every form
 * with a second reading: Transfer-Encoding, two Content-Lengths, obs-fold, bare CR or LF,
 * whitespace before a colon, control bytes, HTTP/1.0, Expect, Upgrade, Connection other than
 * keep-alive.
 */

/** A head longer than this is handed off (node's own limit, --max-http-header-size, is 16 KiB). */
export const MAX_LEAN_HEAD_BYTES = 8192;
/** More header lines than this are handed off (an infer request needs a handful). */
export const MAX_LEAN_HEADERS = 64;

export interface LeanHead {
  readonly model: string;
  readonly version: string | undefined;
  /** The request target, for the request log line. */
  readonly path: string;
  readonly contentLength: number;
  /** X-Request-Id as sent (requestIdOf checks it). */
  readonly requestId: string | undefined;
  readonly inferenceHeaderLength: string | undefined;
  /** Bytes of the head, the blank line included: the body starts here. */
  readonly headBytes: number;
}

export type LeanHeadResult = LeanHead | 'incomplete' | 'handoff';

const PREFIX = Buffer.from('POST /v2/models/', 'latin1');
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** The fast-path infer route (rest-fast-infer.ts's INFER_PATH) as a whole request line. */
const REQUEST_LINE = /^POST (\/v2\/models\/([\w.-]+)(?:\/versions\/(\d+))?\/infer) HTTP\/1\.1$/;
/**
 * name ":" OWS value OWS, the name a token (RFC 9110 5.6.2), the value visible ASCII with inner
 * spaces or tabs only (no obs-text, no controls: llhttp's strict mode refuses some of those, and
 * refusing is the other parser's call to make). The value's runs alternate between disjoint
 * classes, so matching is linear.
 */
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*((?:[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*)?)[ \t]*$/;
/** Content-Length: digits only, within a safe integer (no sign, no list, no spaces inside). */
const CONTENT_LENGTH = /^\d{1,15}$/;

/**
 * True when head[0..n) holds only visible ASCII, space, tab and CRLF pairs (a CR at the very end
 * may still get its LF): no bare CR or LF, no other control byte, no byte over 0x7e.
 */
function plainHeadBytes(head: Buffer, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const byte = head[i]!;
    if (byte >= 0x20 && byte <= 0x7e) continue;
    if (byte === 0x09) continue;
    if (byte === 0x0d && (i + 1 === n || head[i + 1] === 0x0a)) continue;
    if (byte === 0x0a && i > 0 && head[i - 1] === 0x0d) continue;
    return false;
  }
  return true;
}

/**
 * Reads the request head at buf[start..end): a LeanHead when it is a plain fast-path infer
 * request, 'incomplete' while it may still become one, 'handoff' as soon as it cannot.
 */
export function readLeanHead(buf: Buffer, start: number, end: number): LeanHeadResult {
  const available = end - start;
  const prefix = Math.min(available, PREFIX.length);
  if (buf.compare(PREFIX, 0, prefix, start, start + prefix) !== 0) return 'handoff';
  const window = buf.subarray(start, Math.min(end, start + MAX_LEAN_HEAD_BYTES));
  const found = window.indexOf(CRLFCRLF);
  if (found < 0) {
    // a head that already breaks the rules goes to node now (its 400), not after the timeout
    if (!plainHeadBytes(window, window.length) || available >= MAX_LEAN_HEAD_BYTES) return 'handoff';
    return 'incomplete';
  }
  const stop = start + found;
  if (!plainHeadBytes(window, found + 4)) return 'handoff';
  const headBytes = stop + 4 - start;
  const lines = buf.toString('latin1', start, stop).split('\r\n');
  if (lines.length - 1 > MAX_LEAN_HEADERS) return 'handoff';
  const target = REQUEST_LINE.exec(lines[0]!);
  if (!target) return 'handoff';
  let contentLength: string | undefined;
  let host = false;
  let requestId: string | undefined;
  let inferenceHeaderLength: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const header = HEADER_LINE.exec(lines[i]!);
    if (!header) return 'handoff'; // also bare CR/LF inside a line, obs-fold (leading space), no colon
    const value = header[2]!;
    switch (header[1]!.toLowerCase()) {
      case 'content-length':
        if (contentLength !== undefined || !CONTENT_LENGTH.test(value)) return 'handoff';
        contentLength = value;
        break;
      case 'host':
        if (host) return 'handoff';
        host = true;
        break;
      case 'connection':
        if (value.toLowerCase() !== 'keep-alive') return 'handoff';
        break;
      case 'x-request-id':
        if (requestId !== undefined) return 'handoff';
        requestId = value;
        break;
      case 'inference-header-content-length':
        if (inferenceHeaderLength !== undefined) return 'handoff';
        inferenceHeaderLength = value;
        break;
      case 'transfer-encoding':
      case 'expect':
      case 'upgrade':
        return 'handoff';
    }
  }
  // node answers a missing Host with 400 (requireHostHeader); a missing length is fastify's case
  if (!host || contentLength === undefined) return 'handoff';
  return {
    model: target[2]!,
    version: target[3],
    path: target[1]!,
    contentLength: Number(contentLength),
    requestId,
    inferenceHeaderLength,
    headBytes,
  };
}
