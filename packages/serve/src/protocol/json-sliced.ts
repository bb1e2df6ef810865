import { serveError } from '../errors.js';

/**
 * JSON.parse in slices, yielding to the event loop between them (issue #24 item 8: JSON.parse of a
 * 250 MB body held the loop, and /v2/health/live with it, for 15 s). A request's JSON is bounded
 * (MAX_JSON_BODY_BYTES), but native JSON.parse costs about 100 ns per element on a busy machine,
 * so a 16 MiB body of small numbers would still block for most of a second; this parser does the
 * same work in turns of at most `sliceMs`, so health probes and other requests run in between.
 * Flat runs of numbers inside an array (a tensor's `data`) are handed to native JSON.parse in
 * pieces of at most NUMBER_RUN_CHARS, which keeps it near native speed; everything else is
 * tokenized here. It accepts exactly what JSON.parse accepts (RFC 8259) and builds the same
 * values, "__proto__" keys included as own properties.
 */

/** Longest run of numbers given to native JSON.parse at once: a few hundred microseconds. */
const NUMBER_RUN_CHARS = 64 * 1024;
/** Tokens, or characters, between two looks at the clock. */
const CHECK_EVERY = 1024;
const CHECK_CHARS = NUMBER_RUN_CHARS;

type Frame = { array: unknown[] } | { object: Record<string, unknown>; key: string; needKey: boolean };

const enumerable = { writable: true, enumerable: true, configurable: true };

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Characters a run of numbers and separators can hold (digits, sign, point, exponent, comma, space). */
function isNumberRunChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2c ||
    c === 0x2d ||
    c === 0x2b ||
    c === 0x2e ||
    c === 0x65 ||
    c === 0x45 ||
    isSpace(c)
  );
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export async function parseJsonSliced(text: string, sliceMs: number): Promise<unknown> {
  const n = text.length;
  const stack: Frame[] = [];
  let i = 0;
  let root: unknown;
  let steps = 0;
  let checkedAt = 0;
  let deadline = performance.now() + sliceMs;
  const bad = (what: string): never => {
    throw serveError('FERRY_SERVE_BAD_REQUEST', {
      reason: `the body is not valid JSON: ${what} at character ${i}`,
    });
  };
  const skipSpace = () => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };
  // true: a value was completed at the top level
  const put = (value: unknown): boolean => {
    const top = stack[stack.length - 1];
    if (!top) {
      root = value;
      return true;
    }
    if ('array' in top) top.array.push(value);
    else if (top.key === '__proto__') Object.defineProperty(top.object, top.key, { value, ...enumerable });
    else top.object[top.key] = value;
    return false;
  };
  const readString = (): string => {
    const start = i;
    i++;
    for (;;) {
      const close = text.indexOf('"', i);
      if (close < 0) {
        i = n;
        return bad('unterminated string');
      }
      // a quote preceded by an odd number of backslashes is escaped
      let slashes = 0;
      while (text.charCodeAt(close - 1 - slashes) === 0x5c) slashes++;
      i = close + 1;
      if (slashes % 2 === 0) break;
    }
    const raw = text.slice(start + 1, i - 1);
    // without escapes or control characters (which must be escaped) the text is the string;
    // otherwise native JSON.parse decodes and checks it
    if (!/[\\\u0000-\u001f]/.test(raw)) return raw;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return bad('bad string');
    }
  };
  // a run of numbers in an array, up to NUMBER_RUN_CHARS, ending before a comma: native parse
  const readNumberRun = (array: unknown[]): boolean => {
    let end = i;
    const limit = Math.min(n, i + NUMBER_RUN_CHARS);
    while (end < limit && isNumberRunChar(text.charCodeAt(end))) end++;
    let cut = end;
    if (end < n && end === limit) cut = text.lastIndexOf(',', end - 1);
    else while (cut > i && isSpace(text.charCodeAt(cut - 1))) cut--;
    if (cut <= i || text.charCodeAt(cut - 1) === 0x2c) return false;
    let values: unknown[];
    try {
      values = JSON.parse(`[${text.slice(i, cut)}]`) as unknown[];
    } catch {
      return false; // not a clean run: the tokenizer below finds the exact error
    }
    for (const v of values) array.push(v);
    i = cut;
    return true;
  };

  // states: a value is expected (optionally the end of an empty container), or what follows one
  let expectValue = true;
  let allowClose = false;
  for (;;) {
    if ((++steps % CHECK_EVERY === 0 || i - checkedAt >= CHECK_CHARS) && performance.now() > deadline) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      deadline = performance.now() + sliceMs;
      checkedAt = i;
    }
    skipSpace();
    if (i >= n) return bad('unexpected end');
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (expectValue) {
      if (allowClose && top && (('array' in top && c === 0x5d) || (!('array' in top) && c === 0x7d))) {
        i++;
        stack.pop();
        expectValue = false;
        allowClose = false;
        if (put('array' in top ? top.array : top.object)) break;
        continue;
      }
      allowClose = false;
      if (top && !('array' in top) && top.needKey) {
        if (c !== 0x22) return bad('expected a string key');
        top.key = readString();
        top.needKey = false;
        skipSpace();
        if (text.charCodeAt(i) !== 0x3a) return bad('expected ":"');
        i++;
        continue;
      }
      let done = false;
      if (c === 0x7b) {
        i++;
        stack.push({ object: {}, key: '', needKey: true });
        allowClose = true;
        continue;
      }
      if (c === 0x5b) {
        i++;
        stack.push({ array: [] });
        allowClose = true;
        continue;
      }
      if (c === 0x22) done = put(readString());
      else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        if (top && 'array' in top && readNumberRun(top.array)) {
          expectValue = false;
          continue;
        }
        NUMBER.lastIndex = i;
        const m = NUMBER.exec(text);
        if (!m) return bad('bad number');
        i += m[0].length;
        done = put(Number(m[0]));
      } else if (text.startsWith('true', i)) {
        i += 4;
        done = put(true);
      } else if (text.startsWith('false', i)) {
        i += 5;
        done = put(false);
      } else if (text.startsWith('null', i)) {
        i += 4;
        done = put(null);
      } else return bad(`unexpected ${JSON.stringify(text[i])}`);
      expectValue = false;
      if (done) break;
      continue;
    }
    // after a value inside a container: a comma or the container's end
    if (!top) return bad('unexpected text after the value');
    const isArray = 'array' in top;
    if (c === 0x2c) {
      i++;
      expectValue = true;
      if (!isArray) top.needKey = true;
      continue;
    }
    if ((isArray && c === 0x5d) || (!isArray && c === 0x7d)) {
      i++;
      stack.pop();
      if (put(isArray ? top.array : top.object)) break;
      continue;
    }
    return bad(`unexpected ${JSON.stringify(text[i])}`);
  }
  skipSpace();
  if (i < n) return bad('unexpected text after the value');
  return root;
}
