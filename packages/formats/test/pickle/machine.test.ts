import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../../src/errors.js';
import { BufferInput } from '../../src/pickle/input.js';
import { MAX_GRAPH_DEPTH, runPickle } from '../../src/pickle/machine.js';
import { OPCODE_BY_NAME, OPCODES } from '../../src/pickle/opcodes.js';
import { readPickleStream } from '../../src/pickle/stream.js';
import type { PickleValue, PyCall, PyDict, PyGlobal, PyList, PyTuple } from '../../src/pickle/values.js';

const enc = new TextEncoder();
/** Builds a stream from opcode names, raw strings (latin-1) and byte arrays. */
function stream(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      if (part in OPCODE_BY_NAME) out.push(OPCODE_BY_NAME[part]!.code);
      else for (const ch of part) out.push(ch.charCodeAt(0));
    } else out.push(...part);
  }
  return Uint8Array.from(out);
}
const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const u64 = (n: number) => [...u32(n), 0, 0, 0, 0];
const short = (s: string) => {
  const b = enc.encode(s);
  return [OPCODE_BY_NAME.SHORT_BINUNICODE!.code, b.length, ...b];
};
const run = (bytes: Uint8Array) => runPickle(new BufferInput(bytes, 't.pkl'));
const value = (bytes: Uint8Array) => run(bytes).value;
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FerryError);
    return (error as FerryError).code;
  }
  throw new Error('expected a FerryError');
};

const FIXTURES = new URL('../../../../fixtures/pickle/', import.meta.url).pathname;

describe('opcode table', () => {
  it('has every opcode pickletools lists for protocols 0-5', () => {
    // Lib/pickletools.py lists 68 opcodes.
    expect(OPCODES.filter(Boolean)).toHaveLength(68);
    for (const name of [
      'FRAME',
      'MEMOIZE',
      'STACK_GLOBAL',
      'NEWOBJ_EX',
      'EXT4',
      'BYTEARRAY8',
      'NEXT_BUFFER',
      'READONLY_BUFFER',
      'BINPERSID',
    ]) {
      expect(OPCODE_BY_NAME[name]).toBeDefined();
    }
  });
});

describe('pickle machine: values', () => {
  it('reads protocol 0 text opcodes', () => {
    expect(value(stream('I', '42\n', '.'))).toBe(42);
    expect(value(stream('I', '01\n', '.'))).toBe(true);
    expect(value(stream('I', '00\n', '.'))).toBe(false);
    expect(value(stream('L', '123456789012345678901234567890L\n', '.'))).toBe(
      123456789012345678901234567890n,
    );
    expect(value(stream('F', '1.5\n', '.'))).toBe(1.5);
    expect(value(stream('F', 'inf\n', '.'))).toBe(Number.POSITIVE_INFINITY);
    expect(value(stream('S', "'a\\nb\\x41\\101'\n", '.'))).toBe('a\nbAA');
    expect(value(stream('V', 'caf\\u00e9 \\U0001f600\n', '.'))).toBe('café 😀');
  });

  it('reads binary numbers', () => {
    expect(value(stream('J', u32(-5 >>> 0), '.'))).toBe(-5);
    expect(value(stream('K', [200], '.'))).toBe(200);
    expect(value(stream('M', [0x34, 0x12], '.'))).toBe(0x1234);
    expect(value(stream('LONG1', [2, 0xff, 0x7f], '.'))).toBe(0x7fff);
    expect(value(stream('LONG1', [1, 0xff], '.'))).toBe(-1);
    expect(value(stream('LONG1', [9, 0, 0, 0, 0, 0, 0, 0, 0, 1], '.'))).toBe(1n << 64n);
    expect(value(stream('LONG4', u32(1), [0x80], '.'))).toBe(-128);
    expect(value(stream('G', [0x3f, 0xf8, 0, 0, 0, 0, 0, 0], '.'))).toBe(1.5);
    expect(value(stream('NONE', '.'))).toBeNull();
    expect(value(stream('NEWTRUE', '.'))).toBe(true);
    expect(value(stream('NEWFALSE', '.'))).toBe(false);
  });

  it('reads strings and keeps bytes as ranges of the input', () => {
    expect(value(stream('T', u32(3), 'abc', '.'))).toBe('abc');
    expect(value(stream('U', [2], 'hi', '.'))).toBe('hi');
    expect(value(stream('X', u32(2), [0xc3, 0xa9], '.'))).toBe('é');
    expect(value(stream(short('ok'), '.'))).toBe('ok');
    expect(value(stream('BINUNICODE8', u64(1), 'z', '.'))).toBe('z');
    const bytes = value(stream('PROTO', [3], 'B', u32(3), 'xyz', '.'));
    expect(bytes).toMatchObject({ kind: 'bytes', start: 7, length: 3, bytearray: false });
    expect(value(stream('C', [1], 'q', '.'))).toMatchObject({ kind: 'bytes', length: 1 });
    expect(value(stream('BINBYTES8', u64(2), 'ab', '.'))).toMatchObject({ kind: 'bytes', length: 2 });
    expect(value(stream('BYTEARRAY8', u64(2), 'ab', '.'))).toMatchObject({ kind: 'bytes', bytearray: true });
  });

  it('builds containers, with mark semantics', () => {
    const t = value(stream('MARK', 'K', [1], 'K', [2], 'TUPLE', '.')) as PyTuple;
    expect(t.items).toEqual([1, 2]);
    expect((value(stream('K', [1], 'TUPLE1', '.')) as PyTuple).items).toEqual([1]);
    expect((value(stream('K', [1], 'K', [2], 'TUPLE2', '.')) as PyTuple).items).toEqual([1, 2]);
    expect((value(stream('K', [1], 'K', [2], 'K', [3], 'TUPLE3', '.')) as PyTuple).items).toEqual([1, 2, 3]);
    expect((value(stream('EMPTY_TUPLE', '.')) as PyTuple).items).toEqual([]);
    const l = value(
      stream('EMPTY_LIST', 'K', [1], 'APPEND', 'MARK', 'K', [2], 'K', [3], 'APPENDS', '.'),
    ) as PyList;
    expect(l.items).toEqual([1, 2, 3]);
    expect((value(stream('MARK', 'K', [4], 'LIST', '.')) as PyList).items).toEqual([4]);
    const d = value(
      stream('EMPTY_DICT', short('a'), 'K', [1], 'SETITEM', 'MARK', short('b'), 'K', [2], 'SETITEMS', '.'),
    ) as PyDict;
    expect(d.entries).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect((value(stream('MARK', short('k'), 'K', [1], 'DICT', '.')) as PyDict).entries).toEqual([['k', 1]]);
    expect(value(stream('EMPTY_SET', 'MARK', 'K', [1], 'ADDITEMS', '.'))).toMatchObject({
      kind: 'set',
      items: [1],
    });
    expect(value(stream('MARK', 'K', [1], 'FROZENSET', '.'))).toMatchObject({
      kind: 'frozenset',
      items: [1],
    });
    // POP on an empty frame pops the mark (pickle.py load_pop), POP_MARK drops the frame.
    expect(value(stream('K', [7], 'MARK', 'POP', '.'))).toBe(7);
    expect(value(stream('K', [7], 'MARK', 'K', [1], 'K', [2], 'POP_MARK', '.'))).toBe(7);
    expect((value(stream('K', [5], 'DUP', 'TUPLE2', '.')) as PyTuple).items).toEqual([5, 5]);
  });

  it('keeps identity through the memo (PUT/GET/BINPUT/BINGET/LONG_BINPUT/LONG_BINGET/MEMOIZE)', () => {
    for (const [put, get] of [
      [
        ['p', '3\n'],
        ['g', '3\n'],
      ],
      [
        ['q', 3],
        ['h', 3],
      ],
      [
        ['r', ...u32(3)],
        ['j', ...u32(3)],
      ],
    ] as const) {
      const bytes = stream(
        'EMPTY_LIST',
        (put as readonly (string | number)[])
          .map((x) => (typeof x === 'string' ? x : String.fromCharCode(x)))
          .join(''),
        (get as readonly (string | number)[])
          .map((x) => (typeof x === 'string' ? x : String.fromCharCode(x)))
          .join(''),
        'TUPLE2',
        '.',
      );
      const t = value(bytes) as PyTuple;
      expect(t.items[0]).toBe(t.items[1]);
    }
    const t = value(stream('PROTO', [4], 'EMPTY_DICT', 'MEMOIZE', 'h', [0], 'TUPLE2', '.')) as PyTuple;
    expect(t.items[0]).toBe(t.items[1]);
  });

  it('records globals and calls without resolving or calling anything', () => {
    const r = run(stream('c', 'os\nsystem\n', short('id'), 'TUPLE1', 'R', '.'));
    const call = r.value as PyCall;
    expect(call).toMatchObject({ kind: 'call', opcode: 'REDUCE', args: ['id'] });
    expect(call.callee).toMatchObject({ kind: 'global', module: 'os', name: 'system', opcode: 'GLOBAL' });
    expect(r.calls).toEqual([call]);
    const sg = run(
      stream(
        'PROTO',
        [4],
        short('a.b'),
        short('C'),
        'STACK_GLOBAL',
        'EMPTY_TUPLE',
        'NEWOBJ',
        'EMPTY_DICT',
        short('x'),
        'K',
        [1],
        'SETITEM',
        'BUILD',
        '.',
      ),
    );
    const obj = sg.value as PyCall;
    expect(obj.opcode).toBe('NEWOBJ');
    expect(obj.states).toHaveLength(1);
    expect((obj.callee as PyGlobal).module).toBe('a.b');
    const ex = value(
      stream(
        'PROTO',
        [4],
        short('m'),
        short('C'),
        'STACK_GLOBAL',
        'EMPTY_TUPLE',
        'EMPTY_DICT',
        'NEWOBJ_EX',
        '.',
      ),
    );
    expect(ex).toMatchObject({ kind: 'call', opcode: 'NEWOBJ_EX' });
    const inst = value(stream('MARK', 'K', [1], 'i', 'm\nC\n', '.')) as PyCall;
    expect(inst).toMatchObject({ opcode: 'INST', args: [1] });
    const obj2 = value(stream('MARK', 'c', 'm\nC\n', 'K', [2], 'o', '.')) as PyCall;
    expect(obj2).toMatchObject({ opcode: 'OBJ', args: [2] });
    expect(value(stream('PROTO', [2], 'EXT1', [5], '.'))).toMatchObject({ kind: 'ext', code: 5 });
    expect(value(stream('PROTO', [2], 'EXT2', [5, 1], '.'))).toMatchObject({ kind: 'ext', code: 261 });
    expect(value(stream('PROTO', [2], 'EXT4', u32(70000), '.'))).toMatchObject({ kind: 'ext', code: 70000 });
    expect(value(stream('P', '42\n', '.'))).toMatchObject({ kind: 'persid', value: '42' });
    expect(value(stream('K', [1], 'Q', '.'))).toMatchObject({ kind: 'persid', value: 1 });
    expect(value(stream('PROTO', [5], 'NEXT_BUFFER', 'READONLY_BUFFER', '.'))).toMatchObject({
      kind: 'buffer',
      readonly: true,
    });
    expect(value(stream('PROTO', [4], 'FRAME', u64(3), 'K', [9], '.'))).toBe(9);
  });

  it('flags unresolvable STACK_GLOBAL and mutation of globals', () => {
    const r = run(
      stream('PROTO', [4], short('m'), short('n'), 'STACK_GLOBAL', short('x'), 'STACK_GLOBAL', '.'),
    );
    expect(r.value).toMatchObject({ kind: 'global', module: null, name: null });
    expect(r.anomalies.map((a) => a.rule)).toEqual(['unresolvable-global']);
    const m = run(
      stream('PROTO', [4], short('sys'), short('path'), 'STACK_GLOBAL', short('/x'), 'APPEND', '.'),
    );
    expect(m.anomalies.map((a) => a.rule)).toEqual(['global-mutation']);
  });

  it('reads several pickles back to back and reports trailing data', () => {
    const two = stream('K', [1], '.', 'K', [2], '.', [0xff, 0xff]);
    const s = readPickleStream(new BufferInput(two, 't'));
    expect(s.pickles.map((p) => p.value)).toEqual([1, 2]);
    expect(s.trailing?.offset).toBe(6);
  });
});

describe('pickle machine: errors and limits', () => {
  it('gives typed errors with the byte offset', () => {
    expect(code(() => run(stream('K', [1], [0xff])))).toBe('FERRY_PICKLE_OPCODE');
    expect(code(() => run(stream('PROTO', [6], '.')))).toBe('FERRY_PICKLE_PROTOCOL');
    expect(code(() => run(stream('X', u32(100), 'ab')))).toBe('FERRY_PICKLE_TRUNCATED');
    expect(code(() => run(stream('BINBYTES8', [0, 0, 0, 0, 0, 1, 0, 0], '.')))).toBe(
      'FERRY_PICKLE_TRUNCATED',
    );
    expect(code(() => run(stream('R', '.')))).toBe('FERRY_PICKLE_STACK');
    expect(code(() => run(stream('h', [3], '.')))).toBe('FERRY_PICKLE_MEMO');
    expect(code(() => run(stream('I', 'abc\n', '.')))).toBe('FERRY_PICKLE_VALUE');
    expect(code(() => run(stream('K', [1], 'K', [2], 'R', '.')))).toBe('FERRY_PICKLE_STACK');
    expect(code(() => run(stream('K', [1], 'K', [2], 'APPEND', '.')))).toBe('FERRY_PICKLE_STACK');
    expect(code(() => run(stream('MARK', 'K', [1], 'DICT', '.')))).toBe('FERRY_PICKLE_STACK');
    expect(code(() => run(stream('K', [1])))).toBe('FERRY_PICKLE_TRUNCATED');
    expect(code(() => run(stream('EXT1', [0], '.')))).toBe('FERRY_PICKLE_VALUE');
    expect(code(() => run(stream('X', u32(2), [0xff, 0xfe], '.')))).toBe('FERRY_PICKLE_VALUE');
    try {
      run(stream('K', [1], 'K', [2], [0xfe]));
    } catch (error) {
      expect((error as FerryError).params.offset).toBe(4);
      expect((error as FerryError).message).toContain('t.pkl: pickle byte 4');
    }
  });

  it('reads text lines of any length up to MAX_LINE_BYTES', () => {
    const long = 'm'.repeat(70_000);
    expect(value(stream('c', `${long}\nname\n`, '.'))).toMatchObject({ module: long, name: 'name' });
    expect(code(() => run(stream('c', 'x'.repeat(2 * 1024 * 1024))))).toBe('FERRY_PICKLE_LIMIT');
    expect(code(() => run(stream('c', 'no newline')))).toBe('FERRY_PICKLE_TRUNCATED');
  });

  it('bounds integer digits (CVE-2020-10735)', () => {
    expect(code(() => run(stream('I', '9'.repeat(5000), '\n.')))).toBe('FERRY_PICKLE_LIMIT');
  });

  it('bounds nesting depth', () => {
    const deep = stream(
      ...Array.from({ length: MAX_GRAPH_DEPTH + 5 }, () => 'EMPTY_LIST'),
      ...Array.from({ length: MAX_GRAPH_DEPTH + 4 }, () => 'APPEND'),
      '.',
    );
    expect(code(() => run(deep))).toBe('FERRY_PICKLE_LIMIT');
  });

  it('bounds the object count (GET in a loop cannot grow a list without end)', () => {
    const loop = stream('EMPTY_LIST', 'q', [0], ...Array.from({ length: 2000 }, () => 'h\u0000a'), '.');
    expect(() => runPickle(new BufferInput(loop, 't'), 0, { maxObjects: 500 })).toThrow(/object count/);
  });
});

describe('pickle machine: fuzz', () => {
  const seeds = readdirSync(`${FIXTURES}corpus`)
    .filter((f) => f.endsWith('.pkl'))
    .map((f) => readFileSync(`${FIXTURES}corpus/${f}`));
  const onlyFerryErrors = (bytes: Uint8Array) => {
    try {
      readPickleStream(new BufferInput(bytes, 'fuzz'));
    } catch (error) {
      if (!(error instanceof FerryError)) throw error;
    }
  };

  it('mutated real pickles give only FerryError', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        (which, flips, cut) => {
          const bytes = Uint8Array.from(seeds[which]!);
          for (const [at, v] of flips) bytes[at % bytes.length] = v;
          onlyFerryErrors(bytes);
          onlyFerryErrors(bytes.subarray(0, cut % (bytes.length + 1)));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('random opcode streams give only FerryError', () => {
    const codes = OPCODES.filter(Boolean).map((o) => o!.code);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom(...codes), fc.integer({ min: 0, max: 255 })), { maxLength: 200 }),
        (ops) => onlyFerryErrors(Uint8Array.from([0x80, 4, ...ops])),
      ),
      { numRuns: 500 },
    );
  });

  it('splices of two pickles give only FerryError', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), fc.nat(), (a, b, x, y) => {
        const s1 = seeds[a % seeds.length]!;
        const s2 = seeds[b % seeds.length]!;
        onlyFerryErrors(
          Uint8Array.from([...s1.subarray(0, x % (s1.length + 1)), ...s2.subarray(y % (s2.length + 1))]),
        );
      }),
      { numRuns: 300 },
    );
  });
});

export type { PickleValue };

describe('graph rendering', () => {
  it('shows what loading would do, as Python, without resolving anything', async () => {
    const { renderGraph } = await import('../../src/pickle/render.js');
    const r = run(
      stream(
        'PROTO',
        [4],
        short('builtins'),
        short('getattr'),
        'STACK_GLOBAL',
        short('importlib'),
        short('import_module'),
        'STACK_GLOBAL',
        short('os'),
        'TUPLE1',
        'R',
        short('system'),
        'TUPLE2',
        'R',
        short('id'),
        'TUPLE1',
        'R',
        '.',
      ),
    );
    expect(renderGraph(r.value)).toBe('builtins.getattr(importlib.import_module("os"), "system")("id")');
    const cyclic = run(stream('EMPTY_LIST', 'q', [0], 'h', [0], 'APPEND', '.'));
    expect(renderGraph(cyclic.value)).toBe('[<cycle>]');
    expect(
      renderGraph(run(stream('EMPTY_LIST', ...Array.from({ length: 300 }, () => 'K\u0001a'), '.')).value, 50),
    ).toMatch(/\.\.\.$/);
  });
});

describe('dict keys as CPython stores them (issue #24.2)', () => {
  it('a later equal key overwrites the value and keeps the first place', () => {
    // {'a': 1, 'b': 2, 'a': 3} via DICT, then SETITEMS adds 'b': 4 and 1: 'x', then True: 'y'.
    const bytes = stream(
      'PROTO',
      [2],
      'MARK',
      short('a'),
      'BININT1',
      [1],
      short('b'),
      'BININT1',
      [2],
      short('a'),
      'BININT1',
      [3],
      'DICT',
      'MARK',
      short('b'),
      'BININT1',
      [4],
      'BININT1',
      [1],
      short('x'),
      'NEWTRUE',
      short('y'),
      'BINFLOAT',
      [0x3f, 0xf0, 0, 0, 0, 0, 0, 0],
      short('z'),
      'SETITEMS',
      'STOP',
    );
    const dict = value(bytes) as PyDict;
    // 1 == True == 1.0: one key, the first object (1), the last value ('z').
    expect(dict.entries).toEqual([
      ['a', 3],
      ['b', 4],
      [1, 'z'],
    ]);
  });
  it('SETITEM on a dict subclass (an OrderedDict call) keeps the last value too', () => {
    const bytes = stream(
      'PROTO',
      [2],
      'GLOBAL',
      'collections\nOrderedDict\n',
      'EMPTY_TUPLE',
      'REDUCE',
      short('k'),
      'BININT1',
      [1],
      'SETITEM',
      short('k'),
      'BININT1',
      [2],
      'SETITEM',
      'STOP',
    );
    expect((value(bytes) as PyCall).dictItems).toEqual([['k', 2]]);
  });
});
