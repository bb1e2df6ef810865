import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors.js';
import { BufferInput } from './input.js';
import { type JoblibArray, readPickleStream } from './stream.js';

// Streams assembled from opcodes; none is ever unpickled (issue #24.2).
const enc = new TextEncoder();
const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...enc.encode(p)] : p)));
const str = (s: string) => [0x8c, s.length, ...enc.encode(s)];
const glob = (m: string, n: string) => `c${m}\n${n}\n`;
const WRAPPER = glob('joblib.numpy_pickle', 'NumpyArrayWrapper');
// numpy.dtype('u1', False, True) with numpy's own state: 1-byte elements.
const U1 = bytes(
  glob('numpy', 'dtype'),
  str('u1'),
  [0x89, 0x88, 0x87],
  'R(K\x03',
  str('|'),
  'NNNJ',
  [0xff, 0xff, 0xff, 0xff],
  'J',
  [0xff, 0xff, 0xff, 0xff],
  'K\x00tb',
);
/** `{... 'shape': (n,), 'dtype': u1, <extra>}` as EMPTY_DICT MARK ... SETITEMS. */
const state = (n: number, ...extra: (string | number[])[]) =>
  bytes('}(', str('shape'), 'K', [n], [0x85], str('dtype'), [...U1], ...extra, 'u');

function scan(data: Uint8Array): { arrays: JoblibArray[]; error?: FerryError } {
  const arrays: JoblibArray[] = [];
  try {
    readPickleStream(new BufferInput(data, 't.joblib'), { arrays });
    return { arrays };
  } catch (error) {
    if (!(error instanceof FerryError)) throw error;
    return { arrays, error };
  }
}

describe("NumpyArrayWrapper attributes as joblib's load_build sees them", () => {
  it('reads count * itemsize bytes after a NEWOBJ wrapper without alignment', () => {
    const { arrays, error } = scan(bytes([0x80, 2], WRAPPER, ')', [0x81], [...state(3)], 'b', 'abc', 'N.'));
    expect(error).toBeUndefined();
    expect(arrays.map((a) => a.length)).toEqual([3]);
  });

  it('copyreg.__newobj__(NumpyArrayWrapper) is a wrapper too', () => {
    const make = bytes(glob('copyreg', '__newobj__'), '(', WRAPPER, 'tR');
    const { arrays } = scan(bytes([0x80, 2], [...make], [...state(2)], 'b', 'ab', 'N.'));
    expect(arrays.map((a) => a.length)).toEqual([2]);
  });

  it('a slot state (state, slotstate) sets attributes too, the later one winning', () => {
    const pair = bytes([...state(9)], '}(', str('shape'), 'K', [2], [0x85], 'u', [0x86]);
    const { arrays } = scan(bytes([0x80, 2], WRAPPER, ')', [0x81], [...pair], 'b', 'ab', 'N.'));
    expect(arrays.map((a) => a.length)).toEqual([2]);
  });

  it.each([
    ['a dunder key (an instance __setstate__ changes the next BUILD)', [...str('__setstate__'), 0x4e]],
    [
      'a key made by a call (its str is only known at load time)',
      glob('builtins', 'str'),
      ...str('shape'),
      [0x85],
      'R',
      'K',
      [0],
      [0x85],
    ],
  ] as [string, ...(string | number[])[]][])('refuses %s', (_name, ...extra) => {
    const { error } = scan(bytes([0x80, 2], WRAPPER, ')', [0x81], [...state(3, ...extra)], 'b', 'abc', 'N.'));
    expect(error?.code).toBe('FERRY_PICKLE_STRUCTURE');
  });

  it('refuses _reconstructor with a base other than object, and __init__ with 3 arguments', () => {
    const recon = bytes(glob('copyreg', '_reconstructor'), '(', WRAPPER, glob('builtins', 'dict'), 'NtR');
    expect(scan(bytes([0x80, 2], [...recon], [...state(1)], 'b', 'a', 'N.')).error?.code).toBe(
      'FERRY_PICKLE_STRUCTURE',
    );
    const init = bytes(WRAPPER, '(', glob('numpy', 'ndarray'), 'K', [1], [0x85], str('C'), 'tR');
    expect(scan(bytes([0x80, 2], [...init], '}b', 'a', 'N.')).error?.code).toBe('FERRY_PICKLE_STRUCTURE');
  });

  it("refuses BUILD on what torch's _rebuild_from_type_v2 made from the wrapper class", () => {
    // _rebuild_from_type_v2(copyreg.__newobj__, NumpyArrayWrapper, (NumpyArrayWrapper,), {})
    // returns a wrapper; joblib would read its array at the next BUILD.
    const call = bytes(
      glob('torch._tensor', '_rebuild_from_type_v2'),
      '(',
      glob('copyreg', '__newobj__'),
      WRAPPER,
      '(',
      WRAPPER,
      't}tR',
    );
    const { error } = scan(bytes([0x80, 2], [...call], [...state(2)], 'b', 'ab', 'N.'));
    expect(error?.message).toContain('handed to a call');
  });

  it('refuses BUILD on an array joblib has already read (ndarray.__setstate__, no read)', () => {
    const { error } = scan(bytes([0x80, 2], WRAPPER, ')', [0x81], [...state(1)], 'b', 'a', '}b', 'N.'));
    expect(error?.message).toContain('already read');
  });
});
