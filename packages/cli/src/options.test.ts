import { describe, expect, it } from 'vitest';
import {
  byteSize,
  enumOption,
  integerOption,
  nonNegativeInteger,
  nonNegativeNumber,
  numberOption,
  pathOption,
  portOption,
  positiveInteger,
  positiveNumber,
  seconds,
  stringList,
  stringOption,
  urlOption,
} from './options.js';
import { UsageError } from './usage-error.js';

/** Runs `parse` on `--flag value` and returns the refusal's message (fails when nothing is refused). */
function refusal(parse: (values: Record<string, unknown>) => unknown, value: unknown): string {
  try {
    parse({ flag: value });
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

describe('stringOption', () => {
  it('returns the text given, empty included; absent is undefined', () => {
    expect(stringOption({ flag: 'abc' }, 'flag')).toBe('abc');
    expect(stringOption({ flag: '' }, 'flag')).toBe('');
    expect(stringOption({}, 'flag')).toBeUndefined();
  });

  it('refuses a value of another shape (a spec that says multiple or boolean)', () => {
    expect(refusal((v) => stringOption(v, 'flag'), ['a', 'b'])).toBe('--flag takes one value');
    expect(refusal((v) => stringOption(v, 'flag'), true)).toBe('--flag takes one value');
  });
});

describe('pathOption', () => {
  it('returns a path as given', () => {
    expect(pathOption({ flag: 'out/model.onnx' }, 'flag')).toBe('out/model.onnx');
    expect(pathOption({ flag: '/' }, 'flag')).toBe('/');
    expect(pathOption({}, 'flag')).toBeUndefined();
  });

  it('refuses an empty path and a NUL byte', () => {
    expect(refusal((v) => pathOption(v, 'flag'), '')).toBe('--flag must be a path (got "")');
    expect(refusal((v) => pathOption(v, 'flag'), 'a\0b')).toBe('--flag must be a path (got "a\\u0000b")');
  });
});

describe('stringList', () => {
  it('returns repeated values as given, or splits and trims comma lists', () => {
    expect(stringList({ flag: ['a', 'b=c'] }, 'flag')).toEqual(['a', 'b=c']);
    expect(stringList({ flag: 'one' }, 'flag')).toEqual(['one']);
    expect(stringList({ flag: 'MatMul, Gemm,,' }, 'flag', { split: ',' })).toEqual(['MatMul', 'Gemm']);
    expect(stringList({ flag: ['a,b', 'c'] }, 'flag', { split: ',' })).toEqual(['a', 'b', 'c']);
    expect(stringList({ flag: '' }, 'flag', { split: ',' })).toEqual([]);
    expect(stringList({}, 'flag')).toBeUndefined();
  });

  it('refuses values that are not text', () => {
    expect(refusal((v) => stringList(v, 'flag'), true)).toBe('--flag takes text values');
  });
});

describe('enumOption', () => {
  const MODES = ['none', 'poll', 'explicit'] as const;

  it('returns one of the words, typed', () => {
    const mode: 'none' | 'poll' | 'explicit' | undefined = enumOption({ flag: 'poll' }, 'flag', MODES);
    expect(mode).toBe('poll');
    expect(enumOption({}, 'flag', MODES)).toBeUndefined();
  });

  it('refuses another word (case matters), listing the words', () => {
    expect(refusal((v) => enumOption(v, 'flag', MODES), 'Poll')).toBe(
      '--flag must be one of none, poll, explicit (got Poll)',
    );
    expect(refusal((v) => enumOption(v, 'flag', ['qoperator', 'qdq']), 'int4')).toBe(
      '--flag must be qoperator or qdq (got int4)',
    );
  });
});

describe('urlOption', () => {
  it('returns a URL with an allowed protocol as given', () => {
    expect(urlOption({ flag: 'http://127.0.0.1:8080/' }, 'flag', ['http:', 'https:'])).toBe(
      'http://127.0.0.1:8080/',
    );
    expect(urlOption({ flag: 'postgres://u:p@db/x' }, 'flag', ['postgres:', 'postgresql:'])).toBe(
      'postgres://u:p@db/x',
    );
    expect(urlOption({}, 'flag', ['http:'])).toBeUndefined();
  });

  it('refuses what is not a URL and another protocol', () => {
    expect(refusal((v) => urlOption(v, 'flag', ['http:', 'https:']), 'localhost:8080')).toBe(
      '--flag must be a http:// or https:// URL (got localhost:8080)',
    );
    expect(refusal((v) => urlOption(v, 'flag', ['http:', 'https:']), 'not a url')).toBe(
      '--flag must be a http:// or https:// URL (got "not a url")',
    );
    expect(refusal((v) => urlOption(v, 'flag', ['postgres:']), 'mysql://db/x')).toBe(
      '--flag must be a postgres:// URL (got mysql://db/x)',
    );
  });
});

describe('portOption', () => {
  it('reads 0-65535 under any of the flag names; absent is undefined', () => {
    expect(portOption({ 'http-port': '8100' }, ['serve-port', 'http-port'])).toBe(8100);
    expect(portOption({ 'serve-port': '0' }, ['serve-port', 'http-port'])).toBe(0);
    expect(portOption({ port: '65535' }, 'port')).toBe(65535);
    expect(portOption({}, ['serve-port', 'http-port'])).toBeUndefined();
    expect(portOption({ 'serve-port': '7', 'http-port': '7' }, ['serve-port', 'http-port'])).toBe(7);
  });

  it('refuses two names with different values, and what is not a port', () => {
    expect(() => portOption({ 'serve-port': '1', 'http-port': '2' }, ['serve-port', 'http-port'])).toThrow(
      '--serve-port and --http-port name the same port: give one of them',
    );
    expect(refusal((v) => portOption(v, 'flag'), '65536')).toBe(
      '--flag must be a port number 0-65535 (got 65536)',
    );
    for (const bad of ['-1', '80a', '', '1e3', ' 80', '123456'])
      expect(refusal((v) => portOption(v, 'flag'), bad)).toMatch(
        /^--flag must be a port number 0-65535 \(got /,
      );
  });
});

describe('integerOption, nonNegativeInteger, positiveInteger', () => {
  it('reads whole numbers within the bounds', () => {
    expect(integerOption({ flag: '32' }, 'flag', 1, 32)).toBe(32);
    expect(integerOption({ flag: '1' }, 'flag', 1, 32)).toBe(1);
    expect(nonNegativeInteger({ flag: '0' }, 'flag')).toBe(0);
    expect(nonNegativeInteger({ flag: '007' }, 'flag')).toBe(7);
    expect(nonNegativeInteger({ flag: '9007199254740991' }, 'flag')).toBe(Number.MAX_SAFE_INTEGER);
    expect(positiveInteger({ flag: '1' }, 'flag')).toBe(1);
    expect(positiveInteger({}, 'flag')).toBeUndefined();
  });

  it('refuses signs, fractions, exponents, out-of-range and unsafe integers', () => {
    expect(refusal((v) => integerOption(v, 'flag', 1, 32), '33')).toBe(
      '--flag must be an integer 1-32 (got 33)',
    );
    expect(refusal((v) => integerOption(v, 'flag', 1, 32), '0')).toBe(
      '--flag must be an integer 1-32 (got 0)',
    );
    expect(refusal((v) => nonNegativeInteger(v, 'flag'), '-1')).toBe(
      '--flag must be an integer 0 or more (got -1)',
    );
    expect(refusal((v) => positiveInteger(v, 'flag'), '0')).toBe(
      '--flag must be an integer 1 or more (got 0)',
    );
    expect(refusal((v) => positiveInteger(v, 'flag', 1024), 'x')).toBe(
      '--flag must be an integer 1-1024 (got x)',
    );
    for (const bad of ['1.5', '1e3', '', ' 1', '0x10', '9007199254740992'])
      expect(refusal((v) => nonNegativeInteger(v, 'flag'), bad)).toMatch(
        /^--flag must be an integer 0 or more/,
      );
  });
});

describe('numberOption, positiveNumber, nonNegativeNumber', () => {
  it('reads decimals and exponents within the bounds', () => {
    expect(positiveNumber({ flag: '2.5' }, 'flag')).toBe(2.5);
    expect(positiveNumber({ flag: '.5' }, 'flag')).toBe(0.5);
    expect(nonNegativeNumber({ flag: '0' }, 'flag')).toBe(0);
    expect(nonNegativeNumber({ flag: '1e-6' }, 'flag')).toBe(1e-6);
    expect(numberOption({ flag: '100' }, 'flag', { above: 50, atMost: 100 })).toBe(100);
    expect(numberOption({ flag: '50.001' }, 'flag', { above: 50, atMost: 100 })).toBe(50.001);
    expect(positiveNumber({}, 'flag')).toBeUndefined();
  });

  it('refuses text, signs, spaces, infinity and out-of-range numbers', () => {
    expect(refusal((v) => positiveNumber(v, 'flag'), 'abc')).toBe(
      '--flag must be a positive number (got abc)',
    );
    expect(refusal((v) => positiveNumber(v, 'flag'), '0')).toBe('--flag must be a positive number (got 0)');
    expect(refusal((v) => nonNegativeNumber(v, 'flag'), '-1')).toBe(
      '--flag must be a non-negative number (got -1)',
    );
    expect(refusal((v) => numberOption(v, 'flag', { above: 50, atMost: 100 }), '50')).toBe(
      '--flag must be a number above 50 and at most 100 (got 50)',
    );
    expect(refusal((v) => positiveNumber(v, 'flag', 10), '10.5')).toBe(
      '--flag must be a number above 0 and at most 10 (got 10.5)',
    );
    for (const bad of ['', ' 1', 'Infinity', '1e999', '0x10', 'NaN', '1.2.3'])
      expect(refusal((v) => nonNegativeNumber(v, 'flag'), bad)).toMatch(
        /^--flag must be a non-negative number/,
      );
  });
});

describe('seconds', () => {
  it('reads seconds and returns milliseconds, at least 1', () => {
    expect(seconds({ flag: '2.5' }, 'flag')).toBe(2500);
    expect(seconds({ flag: '86400' }, 'flag')).toBe(86_400_000);
    expect(seconds({ flag: '0.0001' }, 'flag')).toBe(1);
    expect(seconds({ flag: '60' }, 'flag', 60)).toBe(60_000);
    expect(seconds({}, 'flag')).toBeUndefined();
  });

  it('refuses zero, negatives, text and more than the bound (a day by default)', () => {
    expect(refusal((v) => seconds(v, 'flag'), '0')).toBe(
      '--flag must be a number of seconds, > 0 and at most 86400 (got 0)',
    );
    expect(refusal((v) => seconds(v, 'flag'), '86401')).toBe(
      '--flag must be a number of seconds, > 0 and at most 86400 (got 86401)',
    );
    expect(refusal((v) => seconds(v, 'flag', 60), '61')).toBe(
      '--flag must be a number of seconds, > 0 and at most 60 (got 61)',
    );
    for (const bad of ['-1', 'abc', '', '1e3', '5s'])
      expect(refusal((v) => seconds(v, 'flag'), bad)).toMatch(/^--flag must be a number of seconds/);
  });
});

describe('byteSize', () => {
  it('reads plain counts and KiB, MiB, GiB', () => {
    expect(byteSize({ flag: '1' }, 'flag')).toBe(1);
    expect(byteSize({ flag: '1000' }, 'flag')).toBe(1000);
    expect(byteSize({ flag: '4KiB' }, 'flag')).toBe(4096);
    expect(byteSize({ flag: '512MiB' }, 'flag')).toBe(512 * 2 ** 20);
    expect(byteSize({ flag: '2GiB' }, 'flag')).toBe(2 * 2 ** 30);
    expect(byteSize({}, 'flag')).toBeUndefined();
  });

  it('refuses zero, other units, fractions and counts past 2^53', () => {
    expect(refusal((v) => byteSize(v, 'flag'), '1TB')).toBe(
      '--flag must be a byte count like 536870912 or 512MiB (got 1TB)',
    );
    for (const bad of ['0', '0MiB', '1.5GiB', '512mib', '-1', '', '999999999999999GiB'])
      expect(refusal((v) => byteSize(v, 'flag'), bad)).toMatch(/^--flag must be a byte count/);
  });
});
