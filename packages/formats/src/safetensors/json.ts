/**
 * A strict JSON parser (RFC 8259) for safetensors headers. JSON.parse is not enough here:
 * it silently keeps the last of two equal keys and turns integers above 2^53 into inexact
 * floats, while the reference reader (serde_json into u64) rejects or keeps them exact.
 * Integers come back as bigint, other numbers as number; objects as Maps in file order.
 */

/** serde_json's default recursion limit; a header nested deeper is hostile (CWE-674). */
export const MAX_JSON_DEPTH = 128;

export type JsonValue = null | boolean | string | bigint | number | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${reason} at character ${offset}`);
  }
}

export class JsonDuplicateKeyError extends Error {
  constructor(
    readonly key: string,
    readonly offset: number,
    /** The keys leading to the object holding the duplicate; empty for the top level. */
    readonly parents: readonly string[],
  ) {
    super(`duplicate key ${JSON.stringify(key)} at character ${offset}`);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/** Parses one JSON value; anything but JSON whitespace after it is an error. */
export function parseJson(text: string): JsonValue {
  let at = 0;
  // The keys leading to the value being parsed, pushed and popped in place: a copy is made only
  // for a duplicate-key error (a new array per key cost ~1 KB per tensor on 300k-tensor headers).
  const parents: (string | number)[] = [];

  const fail = (reason: string): never => {
    throw new JsonSyntaxError(reason, at);
  };

  const skipSpace = () => {
    for (;;) {
      const c = text.charCodeAt(at);
      // JSON whitespace is exactly these four (RFC 8259 section 2).
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) at++;
      else return;
    }
  };

  const parseString = (): string => {
    at++; // opening quote
    let out = '';
    let runStart = at;
    for (;;) {
      if (at >= text.length) fail('unterminated string');
      const c = text.charCodeAt(at);
      if (c === 0x22) {
        out += text.slice(runStart, at);
        at++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) {
        at++;
        continue;
      }
      out += text.slice(runStart, at);
      const e = text[at + 1];
      at += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const unit = readHex4();
          if (unit >= 0xd800 && unit <= 0xdbff) {
            // A high surrogate must be followed by an escaped low one (serde_json rejects lone ones).
            if (text[at] !== '\\' || text[at + 1] !== 'u') fail('lone surrogate in \\u escape');
            at += 2;
            const low = readHex4();
            if (low < 0xdc00 || low > 0xdfff) fail('lone surrogate in \\u escape');
            out += String.fromCharCode(unit, low);
          } else if (unit >= 0xdc00 && unit <= 0xdfff) {
            fail('lone surrogate in \\u escape');
          } else {
            out += String.fromCharCode(unit);
          }
          break;
        }
        default:
          at -= 2;
          fail('invalid escape in string');
      }
      runStart = at;
    }
  };

  const readHex4 = (): number => {
    const hex = text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid \\u escape');
    at += 4;
    return Number.parseInt(hex, 16);
  };

  const parseNumber = (): bigint | number => {
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (!match) return fail('invalid number');
    at += match[0].length;
    if (match[1] === undefined && match[2] === undefined) return BigInt(match[0]);
    return Number(match[0]);
  };

  const parseValue = (depth: number): JsonValue => {
    skipSpace();
    const c = text[at];
    if (c === '{' || c === '[') {
      if (depth >= MAX_JSON_DEPTH) fail(`nesting deeper than ${MAX_JSON_DEPTH}`);
      return c === '{' ? parseObject(depth + 1) : parseArray(depth + 1);
    }
    if (c === '"') return parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return value;
      }
    }
    return fail(at >= text.length ? 'unexpected end of JSON' : 'unexpected character');
  };

  const parseObject = (depth: number): JsonObject => {
    at++;
    const object: JsonObject = new Map();
    skipSpace();
    if (text[at] === '}') {
      at++;
      return object;
    }
    for (;;) {
      skipSpace();
      if (text[at] !== '"') fail('expected a string key');
      const keyAt = at;
      const key = parseString();
      if (object.has(key))
        throw new JsonDuplicateKeyError(
          key,
          keyAt,
          parents.map((p) => (typeof p === 'number' ? `[${p}]` : p)),
        );
      skipSpace();
      if (text[at] !== ':') fail("expected ':'");
      at++;
      parents.push(key);
      object.set(key, parseValue(depth));
      parents.pop();
      skipSpace();
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] === '}') {
        at++;
        return object;
      }
      fail("expected ',' or '}'");
    }
  };

  const parseArray = (depth: number): JsonValue[] => {
    at++;
    const array: JsonValue[] = [];
    skipSpace();
    if (text[at] === ']') {
      at++;
      return array;
    }
    for (;;) {
      parents.push(array.length);
      array.push(parseValue(depth));
      parents.pop();
      skipSpace();
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] === ']') {
        at++;
        return array;
      }
      fail("expected ',' or ']'");
    }
  };

  const value = parseValue(0);
  skipSpace();
  if (at !== text.length) fail('trailing characters after the JSON value');
  return value;
}
