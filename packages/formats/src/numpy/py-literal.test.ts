import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors.js';
import { MAX_LITERAL_DEPTH } from './limits.js';
import { PyBytes, PyTuple, parsePyLiteral } from './py-literal.js';

const parse = (text: string) => parsePyLiteral(text, 'h.npy', 10);

describe('parsePyLiteral', () => {
  it('reads the dict numpy writes', () => {
    const value = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }          \n");
    expect(value).toBeInstanceOf(Map);
    const map = value as Map<string, unknown>;
    expect(map.get('descr')).toBe('<f4');
    expect(map.get('fortran_order')).toBe(false);
    expect((map.get('shape') as PyTuple).items).toEqual([3, 4]);
  });

  it('tells tuples from parenthesised values, keeps lists, reads Python 2 spellings', () => {
    expect(parse('(3,)')).toEqual(new PyTuple([3]));
    expect(parse('()')).toEqual(new PyTuple([]));
    expect(parse('(3)')).toBe(3);
    expect(parse("[('x', '<i4'), ('y', '<f8', (2,))]")).toEqual([
      new PyTuple(['x', '<i4']),
      new PyTuple(['y', '<f8', new PyTuple([2])]),
    ]);
    expect(parsePyLiteral('(3L, 4 L)', 'h.npy', 10, { python2Long: true })).toEqual(new PyTuple([3, 4]));
    expect(() => parse('(3L, 4L)')).toThrow(/invalid number literal "3L"/); // version 3.0: no filter
    expect(parse("u'<f4'")).toBe('<f4');
    expect(parse('"a\\\'b\\x41\\u00e9"')).toBe("a'bAé");
    expect(parse('None')).toBeNull();
    expect(parse('True')).toBe(true);
    expect(parse('-5')).toBe(-5);
  });

  it.each([
    ["{'a': 1", 'unterminated dict'],
    ["{'a' 1}", 'missing colon'],
    ['__import__("os")', 'a call'],
    ["{'a': 1} x", 'trailing text'],
    ["'abc", 'unterminated string'],
    ['99999999999999999999', 'too large'],
    ['{1: 2}', 'non-string key'],
    ['1.5', 'a float'],
  ])('refuses %s (%s) with FERRY_NPY_HEADER', (text) => {
    expect(() => parse(text)).toThrow(FerryError);
    try {
      parse(text);
    } catch (error) {
      expect((error as FerryError).code).toBe('FERRY_NPY_HEADER');
    }
  });

  // Each answer is what CPython 3.11's ast.literal_eval returns for the same text.
  it.each<[string, unknown]>([
    ['"<f4"', '<f4'],
    ["'|' 'O'", '|O'],
    ['u\'|\'  "O"', '|O'],
    ["'''|O'''", '|O'],
    ['"""a\nb"""', 'a\nb'],
    ["r'\\x41'", '\\x41'],
    ["'\\x41\\101\\u0042\\U00000043'", 'AABC'],
    ["'\\q'", '\\q'],
    ["'a\\\nb'", 'ab'],
    ["R'\\''", "\\'"],
    ['0x1F', 31],
    ['0o17', 15],
    ['0b101', 5],
    ['1_000', 1000],
    ['00', 0],
    ['-(3)', -3],
    ['+ 3', 3],
    ['(\n3 # a comment\n)', 3],
    ['\f(3,)', new PyTuple([3])],
    ["{'a': 1, 'a': 2}", new Map([['a', 2]])],
    [
      "{'a': 1, 'b': 2, 'a': 3}",
      new Map([
        ['a', 3],
        ['b', 2],
      ]),
    ],
    ["b'O'", new PyBytes(Uint8Array.of(0x4f))],
  ])('reads %s as literal_eval does', (text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  it.each([
    ['01', 'leading zero'],
    ['--1', 'two signs'],
    ['-True', 'sign on a bool'],
    ["f'x'", 'an f-string'],
    ["b'x' 'y'", 'bytes mixed with str'],
    ["b'\u00e9'", 'non-ASCII bytes'],
    ["'a\nb'", 'a line break in a one-line string'],
    ["{'a'}", 'a set'],
    ['set()', 'a call'],
    ['...', 'Ellipsis'],
    ['1j', 'imaginary'],
    ['1e3', 'float'],
    ['.5', 'float'],
    ["'\\N{BULLET}'", 'a named escape'],
    ['3L', 'L outside versions 1.0/2.0'],
    ["'a'\0", 'a NUL'],
  ])('refuses %s (%s)', (text) => {
    expect(() => parse(text)).toThrow(FerryError);
  });

  it("drops an L only right after a number, as numpy's _filter_header does (versions 1.0, 2.0)", () => {
    const v1 = (text: string) => parsePyLiteral(text, 'h.npy', 10, { python2Long: true });
    expect(v1('(3L, 4 L, 0x5L)')).toEqual(new PyTuple([3, 4, 5]));
    expect(() => v1('(3, L)')).toThrow(FerryError);
    expect(() => v1('(3LL,)')).toThrow(FerryError);
    expect(() => v1('(3 # c\nL,)')).toThrow(FerryError);
  });

  it('names the byte offset, counting UTF-8 bytes in a version 3.0 header', () => {
    expect(() => parsePyLiteral("{'é': x}", 'h.npy', 12, { utf8: true })).toThrow(/at byte 19:/);
    expect(() => parsePyLiteral("{'é': x}", 'h.npy', 10)).toThrow(/at byte 16:/);
  });

  it('limits nesting', () => {
    const deep = '['.repeat(MAX_LITERAL_DEPTH + 2) + ']'.repeat(MAX_LITERAL_DEPTH + 2);
    expect(() => parse(deep)).toThrow(/CWE-674/);
    const ok = '['.repeat(MAX_LITERAL_DEPTH) + ']'.repeat(MAX_LITERAL_DEPTH);
    expect(() => parse(ok)).not.toThrow();
  });
});
