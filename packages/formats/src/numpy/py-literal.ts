import { ferryError } from '../errors.js';
import { MAX_LITERAL_DEPTH } from './limits.js';

/** A Python tuple, kept apart from a list because NumPy's shape must be a tuple. */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}
export type PyValue =
  | string
  | number
  | boolean
  | null
  | readonly PyValue[]
  | PyTuple
  | ReadonlyMap<string, PyValue>;

/**
 * Parses the Python literal subset NumPy writes in a .npy header (numpy/lib/format.py uses
 * repr() and reads with ast.literal_eval): dicts with string keys, lists, tuples, strings,
 * integers (with Python 2's `L` suffix), True/False/None. Nothing is ever evaluated.
 */
export function parsePyLiteral(text: string, path: string, baseOffset: number): PyValue {
  let at = 0;
  const fail = (reason: string) => ferryError('FERRY_NPY_HEADER', { path, offset: baseOffset + at, reason });
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  };
  const expect = (char: string) => {
    space();
    if (text[at] !== char)
      throw fail(`expected ${JSON.stringify(char)}, found ${JSON.stringify(text[at] ?? 'end')}`);
    at++;
  };

  const string = (): string => {
    if (text[at] === 'u' || text[at] === 'b') at++; // u'...' (Python 2 unicode), b'...' bytes
    const quote = text[at];
    if (quote !== "'" && quote !== '"') throw fail('expected a string');
    at++;
    let out = '';
    for (;;) {
      if (at >= text.length) throw fail('unterminated string');
      const char = text[at++]!;
      if (char === quote) return out;
      if (char !== '\\') {
        out += char;
        continue;
      }
      const esc = text[at++];
      const simple: Record<string, string> = {
        n: '\n',
        t: '\t',
        r: '\r',
        '0': '\0',
        '\\': '\\',
        "'": "'",
        '"': '"',
      };
      if (esc !== undefined && esc in simple) out += simple[esc];
      else if (esc === 'x' || esc === 'u') {
        const width = esc === 'x' ? 2 : 4;
        const hex = text.slice(at, at + width);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) throw fail(`bad \\${esc} escape`);
        out += String.fromCharCode(Number.parseInt(hex, 16));
        at += width;
      } else throw fail(`unsupported escape \\${esc ?? 'end'}`);
    }
  };

  const sequence = (close: string, depth: number): { items: PyValue[]; trailingComma: boolean } => {
    const items: PyValue[] = [];
    let trailingComma = false;
    for (;;) {
      space();
      if (text[at] === close) {
        at++;
        return { items, trailingComma };
      }
      items.push(value(depth + 1));
      space();
      if (text[at] === ',') {
        at++;
        trailingComma = true;
      } else {
        trailingComma = false;
        expect(close);
        return { items, trailingComma };
      }
    }
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
        const key = string();
        if (map.has(key)) throw fail(`duplicate key ${JSON.stringify(key)}`);
        expect(':');
        map.set(key, value(depth + 1));
        space();
        if (text[at] === ',') at++;
        else {
          expect('}');
          return map;
        }
      }
    }
    if (char === '[') {
      at++;
      return sequence(']', depth).items;
    }
    if (char === '(') {
      at++;
      const { items, trailingComma } = sequence(')', depth);
      // (x) is x in Python; (x,) and (x, y) are tuples.
      return items.length === 1 && !trailingComma ? items[0]! : new PyTuple(items);
    }
    if (char === "'" || char === '"' || ((char === 'u' || char === 'b') && /['"]/.test(text[at + 1] ?? ''))) {
      return string();
    }
    const word = /^(-?\d+)L?|^True|^False|^None/.exec(text.slice(at, at + 40));
    if (!word) throw fail(`unexpected ${JSON.stringify(char ?? 'end')}`);
    at += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    const number = Number(word[1]);
    if (!Number.isSafeInteger(number)) throw fail(`integer ${word[1]} is too large`);
    return number;
  };

  const result = value(0);
  space();
  if (at !== text.length) throw fail('unexpected text after the header dictionary');
  return result;
}
