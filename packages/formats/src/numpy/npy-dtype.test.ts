import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanContainer } from '../pickle/container.js';
import { BufferInput } from '../pickle/input.js';
import { BufferSource } from '../tensor/byte-source.js';
import { containsObject, DescrRefused, interpretDescr } from './npy-dtype.js';
import { PyTuple, type PyValue, parsePyLiteral } from './py-literal.js';

/** A descr in numpy's grammar (numpy/lib/format.py descr_to_dtype), with what it must mean. */
type Descr =
  | { readonly kind: 'leaf'; readonly str: string; readonly object: boolean }
  | { readonly kind: 'sub'; readonly base: Descr; readonly shape: number | readonly number[] }
  | { readonly kind: 'struct'; readonly fields: readonly Field[] };
interface Field {
  readonly name: string;
  readonly title?: string;
  readonly inner: Descr;
  readonly shape?: number | readonly number[];
  readonly asList: boolean;
}

// Every spelling numpy reads as an object, and sized types that are not (no S0/U0/V0: a shape
// after those is an item size, a rule of its own checked against numpy in dtype-cases.json).
const OBJECTS = ['|O', 'O', '<O', '>O', '=O', 'object', 'object_', 'O8', 'O4', '\x11', '<\x11'];
const PLAIN = [
  '|b1',
  '<i4',
  '>f8',
  '|u1',
  'int32',
  'float64',
  '|S3',
  '<U2',
  '|V4',
  '<M8[ns]',
  '>c8',
  'd',
  '?',
];

// Dimensions from 1: a shape after a zero-size subarray is an item size in numpy (checked against
// numpy in dtype-cases.json), not a shape.
const shapeArb = fc.oneof(
  fc.integer({ min: 1, max: 3 }),
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
);
const { descr: descrArb } = fc.letrec<{ descr: Descr; leaf: Descr; struct: Descr }>((tie) => ({
  leaf: fc.oneof(
    fc.constantFrom(...OBJECTS).map((str) => ({ kind: 'leaf' as const, str, object: true })),
    fc.constantFrom(...PLAIN).map((str) => ({ kind: 'leaf' as const, str, object: false })),
  ),
  struct: fc
    .array(
      fc.record({
        title: fc.option(fc.constant(true), { nil: undefined }),
        inner: tie('descr'),
        shape: fc.option(shapeArb, { nil: undefined }),
        asList: fc.boolean(),
      }),
      { maxLength: 4 },
    )
    .map((raw) => ({
      kind: 'struct' as const,
      fields: raw.map((f, i) => ({
        name: `f${i}`,
        ...(f.title && { title: `T${i}` }),
        inner: f.inner,
        ...(f.shape !== undefined && { shape: f.shape }),
        asList: f.asList,
      })),
    })),
  descr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    tie('struct'),
    fc.record({ kind: fc.constant('sub' as const), base: tie('leaf'), shape: shapeArb }),
  ),
}));

const hasObject = (d: Descr): boolean =>
  d.kind === 'leaf'
    ? d.object
    : d.kind === 'sub'
      ? hasObject(d.base)
      : d.fields.some((f) => hasObject(f.inner));

/** The Python value numpy would see. */
function toPy(d: Descr): PyValue {
  const shape = (s: number | readonly number[]): PyValue => (typeof s === 'number' ? s : new PyTuple(s));
  if (d.kind === 'leaf') return d.str;
  if (d.kind === 'sub') return new PyTuple([toPy(d.base), shape(d.shape)]);
  return d.fields.map((f) => {
    const name = f.title ? new PyTuple([f.title, f.name]) : f.name;
    const items = [name, toPy(f.inner), ...(f.shape !== undefined ? [shape(f.shape)] : [])];
    return f.asList ? items : new PyTuple(items);
  });
}

/** Writes a value in one of the many ways Python source can spell it. */
interface Style {
  readonly quote: "'" | '"';
  readonly prefix: '' | 'u';
  readonly space: string;
  readonly split: boolean;
  readonly trailing: boolean;
  readonly hex: boolean;
}
function write(value: PyValue, s: Style): string {
  const sep = `,${s.space}`;
  if (typeof value === 'string') {
    const esc = (t: string) =>
      t.replace(/[^\x20-\x7e]|['"\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    const lit = (t: string) => `${s.prefix}${s.quote}${esc(t)}${s.quote}`;
    // Adjacent literals are one string in Python: '<' 'O' is '<O'.
    if (s.split && value.length > 1) return `${lit(value.slice(0, 1))}${s.space} ${lit(value.slice(1))}`;
    return lit(value);
  }
  if (typeof value === 'number') return s.hex ? `0x${value.toString(16)}` : String(value);
  if (value instanceof PyTuple) {
    const items = value.items.map((v) => write(v, s));
    return `(${s.space}${items.join(sep)}${items.length === 1 || s.trailing ? ',' : ''}${s.space})`;
  }
  if (Array.isArray(value))
    return `[${value.map((v) => write(v, s)).join(sep)}${s.trailing && value.length ? ',' : ''}]`;
  throw new Error('not generated');
}
const styleArb = fc.record({
  quote: fc.constantFrom("'" as const, '"' as const),
  prefix: fc.constantFrom('' as const, 'u' as const),
  space: fc.constantFrom('', ' ', '  ', '\n ', ' # note\n', '\t', '\\\n'),
  split: fc.boolean(),
  trailing: fc.boolean(),
  hex: fc.boolean(),
});

/** A protocol-0 pickle calling posix.system: what np.load would run for an object dtype. */
const PAYLOAD = Buffer.from("cposix\nsystem\n(S'echo pwned'\ntR.", 'latin1');
function npy(descrText: string): Uint8Array {
  const text = Buffer.from(`{'descr': ${descrText}, 'fortran_order': False, 'shape': (1,), }\n`, 'latin1');
  const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0, 0, 0, 0]);
  head.writeUInt32LE(text.length, 8);
  return Buffer.concat([head, text, PAYLOAD]);
}

describe('descrs from numpy grammar (fast-check)', () => {
  it('every spelling parses back to the value numpy would see', () => {
    fc.assert(
      fc.property(descrArb, styleArb, (d, style) => {
        const text = write(toPy(d), style);
        expect(parsePyLiteral(text, 'p', 0)).toEqual(toPy(d));
      }),
      { numRuns: 300 },
    );
  });

  it('the dtype holds an object exactly when some part is an object', () => {
    fc.assert(
      fc.property(descrArb, (d) => {
        expect(containsObject(interpretDescr(toPy(d)))).toBe(hasObject(d));
      }),
      { numRuns: 300 },
    );
  });

  it('scan runs the data as a pickle whenever the dtype holds an object, and never otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(descrArb, styleArb, async (d, style) => {
        const bytes = npy(write(toPy(d), style));
        const scan = await scanContainer(new BufferSource(bytes, 'p.npy'), 'p.npy', (start, end) => {
          return new BufferInput(bytes.subarray(start, end), 'p.npy', start);
        });
        const called = scan!.findings.some(
          (f) => f.rule === 'dangerous-call' && /posix\.system/.test(f.message),
        );
        expect(called).toBe(hasObject(d));
      }),
      { numRuns: 200 },
    );
  });

  it('anything else in a descr slot is refused, never read as a plain dtype', () => {
    const junk = fc.oneof(
      fc.constantFrom<PyValue>(
        null,
        true,
        3,
        new Map([['abc', 1]]),
        [3],
        [['a']],
        [['a', 'O', 2, 1]],
        '',
        '<',
      ),
      fc
        .string({ maxLength: 4 })
        .filter((s) => !/^[<>|=]?[\x00-\x17\x1a?bBhHiIlLqQpPefdgFDGOSacUVMm]$/.test(s)),
    );
    fc.assert(
      fc.property(junk, (value) => {
        try {
          const dtype = interpretDescr(value);
          // Some short strings are real numpy types ('i4', 'b1', 'f8'...): then never an object
          // unless the string names one.
          expect(typeof value).toBe('string');
          expect(containsObject(dtype)).toBe(/O|object|\x11/.test(value as string));
        } catch (error) {
          expect(error).toBeInstanceOf(DescrRefused);
        }
      }),
      { numRuns: 300 },
    );
  });
});
