import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors.js';
import { MAX_LITERAL_DEPTH } from './limits.js';
import { PyTuple, parsePyLiteral } from './py-literal.js';

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

  it('limits nesting', () => {
    const deep = '['.repeat(MAX_LITERAL_DEPTH + 2) + ']'.repeat(MAX_LITERAL_DEPTH + 2);
    expect(() => parse(deep)).toThrow(/CWE-674/);
    const ok = '['.repeat(MAX_LITERAL_DEPTH) + ']'.repeat(MAX_LITERAL_DEPTH);
    expect(() => parse(ok)).not.toThrow();
  });
});
