import { ferryError } from '../errors.js';
import { MAX_LITERAL_DEPTH } from './limits.js';

/** A Python tuple, kept apart from a list because NumPy's shape must be a tuple. */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}
/** A Python bytes literal (`b'...'`): never a valid descr or key, but it must parse as one. */
export class PyBytes {
  constructor(readonly bytes: Uint8Array) {}
}
export type PyValue =
  | string
  | number
  | boolean
  | null
  | PyBytes
  | readonly PyValue[]
  | PyTuple
  | ReadonlyMap<string, PyValue>;

export interface PyLiteralOptions {
  /**
   * Drop a NAME token `L` right after a number: numpy/lib/format.py `_filter_header` does this for
   * format versions 1.0 and 2.0 only (headers written by Python 2), before ast.literal_eval.
   */
  readonly python2Long?: boolean;
  /** The text was UTF-8 (version 3.0): offsets in errors count its bytes, not its characters. */
  readonly utf8?: boolean;
}

const ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};
const SPACE = ' \t\f';
const IDENT = /[A-Za-z0-9_]/;

/**
 * Parses what `ast.literal_eval` (CPython 3.11, Lib/ast.py) accepts in a .npy header
 * (numpy/lib/format.py `_read_array_header` calls it via `safe_eval`): dicts with string keys
 * (a repeated key keeps its last value, as in Python), lists, tuples, strings with any prefix
 * (u, r, b, rb...), either quote, triple quotes, every escape, adjacent literals concatenated;
 * integers in any base with underscores, one unary sign, parentheses; True/False/None; comments
 * and line continuations. Floats, complex numbers, sets, `...`, `\N{...}` and f-strings are
 * refused: no header field numpy accepts can hold them (ferry fails closed). Nothing is
 * ever evaluated. Errors name the byte offset (UTF-8 bytes for a version 3.0 header).
 */
export function parsePyLiteral(
  text: string,
  path: string,
  baseOffset: number,
  options: PyLiteralOptions = {},
): PyValue {
  let at = 0;
  const fail = (reason: string, where = at) =>
    ferryError('FERRY_NPY_HEADER', {
      path,
      offset: baseOffset + (options.utf8 ? Buffer.byteLength(text.slice(0, where), 'utf8') : where),
      reason,
    });
  if (text.includes('\0'))
    throw fail('a NUL character (Python refuses source with null bytes)', text.indexOf('\0'));
  // Where the last number token ended: `_filter_header` drops an `L` token right after one.
  let numberEnd = -1;

  // Whitespace, comments, backslash-newline continuations; newlines too, since everything
  // numpy reads sits inside the dict's braces where Python ignores them.
  const space = () => {
    for (;;) {
      const char = text[at];
      if (char !== undefined && (SPACE.includes(char) || char === '\n' || char === '\r')) at++;
      else if (char === '#') while (at < text.length && text[at] !== '\n' && text[at] !== '\r') at++;
      else if (char === '\\' && (text[at + 1] === '\n' || text[at + 1] === '\r')) {
        at += text[at + 1] === '\r' && text[at + 2] === '\n' ? 3 : 2;
      } else if (
        options.python2Long &&
        char === 'L' &&
        !IDENT.test(text[at + 1] ?? '') &&
        numberEnd >= 0 &&
        /^(?:[ \t\f]|\\\r?\n|\\\r)*$/.test(text.slice(numberEnd, at))
      ) {
        at++; // a token of its own: only one L after a number is dropped
        numberEnd = -1;
      } else return;
    }
  };
  const expect = (char: string) => {
    space();
    if (text[at] !== char)
      throw fail(`expected ${JSON.stringify(char)}, found ${JSON.stringify(text[at] ?? 'end')}`);
    at++;
  };

  /** One string literal (prefix, quotes, body), decoded; bytes as char codes < 256. */
  const stringPart = (): { value: string; bytes: boolean } => {
    const prefix = /^[A-Za-z]{0,2}/.exec(text.slice(at, at + 2))![0];
    const lower = prefix.toLowerCase();
    if (!['', 'u', 'r', 'b', 'br', 'rb'].includes(lower)) {
      throw fail(lower.includes('f') ? 'an f-string (not a literal)' : `string prefix ${prefix}`);
    }
    at += prefix.length;
    const raw = lower.includes('r');
    const bytes = lower.includes('b');
    const quote = text[at];
    if (quote !== "'" && quote !== '"') throw fail('expected a string');
    const triple = text.slice(at, at + 3) === quote.repeat(3);
    const close = triple ? quote.repeat(3) : quote;
    const start = at;
    at += close.length;
    let out = '';
    for (;;) {
      if (at >= text.length) throw fail('unterminated string', start);
      if (text.startsWith(close, at)) {
        at += close.length;
        return { value: out, bytes };
      }
      const char = text[at++]!;
      if ((char === '\n' || char === '\r') && !triple) throw fail('a line break inside a string', at - 1);
      // Python turns \r\n into \n in source; no descr holds a line break, so refuse rather than guess.
      if (char === '\r') throw fail('a carriage return inside a string', at - 1);
      if (bytes && char.charCodeAt(0) > 0x7f) throw fail('bytes can only contain ASCII characters', at - 1);
      if (char !== '\\') {
        out += char;
        continue;
      }
      const esc = text[at];
      if (esc === undefined) throw fail('unterminated string', start);
      if (raw) {
        // In a raw literal a backslash keeps itself and stops the next char ending the string.
        out += char + esc;
        at++;
        continue;
      }
      at++;
      if (esc === '\n') continue;
      if (esc === '\r') {
        if (text[at] === '\n') at++;
        continue;
      }
      if (esc in ESCAPES) out += ESCAPES[esc];
      else if (/[0-7]/.test(esc)) {
        const digits = esc + (/^[0-7]{0,2}/.exec(text.slice(at, at + 2))?.[0] ?? '');
        at += digits.length - 1;
        const code = Number.parseInt(digits, 8);
        if (bytes && code > 0xff) throw fail(`octal escape \\${digits} is over 0o377 in bytes`);
        out += String.fromCharCode(code);
      } else if (esc === 'x' || (!bytes && (esc === 'u' || esc === 'U'))) {
        const width = esc === 'x' ? 2 : esc === 'u' ? 4 : 8;
        const hex = text.slice(at, at + width);
        if (hex.length !== width || !/^[0-9a-fA-F]+$/.test(hex)) throw fail(`truncated \\${esc} escape`);
        const code = Number.parseInt(hex, 16);
        if (code > 0x10ffff) throw fail(`\\${esc}${hex} is not a code point`);
        out += String.fromCodePoint(code);
        at += width;
      } else if (esc === 'N' && !bytes) throw fail('a \\N{...} escape (not interpreted; refused)');
      else out += `\\${esc}`; // Python keeps unknown escapes (with a DeprecationWarning)
    }
  };

  const isStringStart = () => /^(?:[rRuUbBfF]|[bBrRfF][rRbBfF])?['"]/.test(text.slice(at, at + 3));

  /** Adjacent literals are one constant ('<' 'O' is '<O'), as in the Python grammar. */
  const string = (): string | PyBytes => {
    const first = stringPart();
    let { value } = first;
    for (;;) {
      const save = at;
      space();
      if (!isStringStart()) {
        at = save;
        break;
      }
      const next = stringPart();
      if (next.bytes !== first.bytes) throw fail('cannot mix bytes and non-bytes literals');
      value += next.value;
    }
    if (!first.bytes) return value;
    return new PyBytes(Uint8Array.from(value, (c) => c.charCodeAt(0)));
  };

  /** An integer token in any base; floats and imaginary numbers are refused. */
  const integer = (): number => {
    const head = text.slice(at, at + 400);
    const match =
      /^0[xX](?:_?[0-9a-fA-F])+|^0[oO](?:_?[0-7])+|^0[bB](?:_?[01])+|^0(?:_?0)*(?![_\d])|^[1-9](?:_?\d)*/.exec(
        head,
      );
    const rest = match ? head[match[0].length] : head[0];
    if (!match || (rest !== undefined && /[.eEjJ]/.test(rest))) {
      if (/^(?:\d+\.?\d*|\.\d)/.test(head))
        throw fail('a float or complex number (no npy header field holds one)');
      throw fail('a malformed number');
    }
    if (rest !== undefined && /[A-Za-z0-9_]/.test(rest) && !(options.python2Long && rest === 'L'))
      throw fail(`invalid number literal ${JSON.stringify(match[0] + rest)}`);
    const digits = match[0].replaceAll('_', '').toLowerCase();
    const big = BigInt(digits.length > 1 && digits[1]! >= 'a' ? digits : digits.replace(/^0+(?=\d)/, ''));
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`integer ${match[0]} is too large`);
    at += match[0].length;
    numberEnd = at;
    return Number(big);
  };

  const value = (depth: number): PyValue => {
    if (depth > MAX_LITERAL_DEPTH) throw fail(`nested deeper than ${MAX_LITERAL_DEPTH} levels (CWE-674)`);
    space();
    const char = text[at];
    if (char === '{') {
      at++;
      const map = new Map<string, PyValue>();
      for (;;) {
        space();
        if (text[at] === '}') {
          at++;
          return map;
        }
        const keyAt = at;
        const key = value(depth + 1);
        space();
        if (text[at] === ',' || text[at] === '}') throw fail('a set (not a dict)', keyAt);
        if (typeof key !== 'string') throw fail('a dictionary key that is not a string', keyAt);
        expect(':');
        const item = value(depth + 1);
        map.set(key, item); // as in Python: a repeated key keeps its first place and its last value
        space();
        if (text[at] === ',') at++;
        else {
          expect('}');
          return map;
        }
      }
    }
    if (char === '[' || char === '(') {
      const close = char === '[' ? ']' : ')';
      at++;
      const items: PyValue[] = [];
      let comma = false;
      for (;;) {
        space();
        if (text[at] === close) {
          at++;
          break;
        }
        items.push(value(depth + 1));
        space();
        comma = text[at] === ',';
        if (comma) at++;
        else {
          expect(close);
          break;
        }
      }
      if (close === ']') return items;
      // (x) is x in Python; (x,) and (x, y) are tuples.
      return items.length === 1 && !comma ? items[0]! : new PyTuple(items);
    }
    if (char === '-' || char === '+') {
      // ast.literal_eval takes one unary sign on a number (`-(1)` too), never two.
      at++;
      space();
      let parens = 0;
      while (text[at] === '(') {
        at++;
        parens++;
        space();
      }
      if (!/\d/.test(text[at] ?? '')) throw fail('a sign not followed by a number');
      const number = integer();
      for (let i = 0; i < parens; i++) expect(')');
      return char === '-' ? -number : number;
    }
    if (char !== undefined && /[\d.]/.test(char)) return integer();
    if (isStringStart()) return string();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(at, at + 64))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      at += word.length;
      return word === 'None' ? null : word === 'True';
    }
    if (word) throw fail(`a name ${JSON.stringify(word)} (only literals are allowed)`);
    throw fail(`unexpected ${JSON.stringify(char ?? 'end')}`);
  };

  const result = value(0);
  space();
  if (at !== text.length) throw fail('unexpected text after the header dictionary');
  return result;
}
