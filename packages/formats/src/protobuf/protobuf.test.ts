import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FerryError } from '../errors.js';
import { decodeMessage, MAX_PROTOBUF_DEPTH } from './decode.js';
import { encodeMessage } from './encode.js';
import type { MessageSchema } from './schema.js';

const Inner: MessageSchema = {
  name: 'Inner',
  fields: { 1: { name: 'label', type: 'string' }, 2: { name: 'child', type: () => Inner } },
};
const Outer: MessageSchema = {
  name: 'Outer',
  fields: {
    1: { name: 'id', type: 'int64' },
    2: { name: 'name', type: 'string' },
    3: { name: 'dims', type: 'int64', repeated: true },
    4: { name: 'values', type: 'float', repeated: true, packed: true },
    5: { name: 'data', type: 'bytes' },
    6: { name: 'inner', type: Inner, repeated: true },
    7: { name: 'attrs', type: 'string', map: { key: 'string', value: Inner } },
    8: { name: 'flag', type: 'bool' },
    9: { name: 'delta', type: 'sint64' },
    10: { name: 'ratio', type: 'double' },
    11: { name: 'small', type: 'int32' },
  },
};

describe('protobuf codec', () => {
  it('decodes bytes a hand-assembled wire record gives (field 1 varint 150, field 2 "hi")', () => {
    const message = decodeMessage(Outer, new Uint8Array([0x08, 0x96, 0x01, 0x12, 0x02, 0x68, 0x69]));
    expect(message).toEqual({ id: 150n, name: 'hi' });
  });

  it('accepts repeated numbers both packed and unpacked', () => {
    const unpacked = new Uint8Array([0x18, 0x01, 0x18, 0x02]);
    const packed = new Uint8Array([0x1a, 0x02, 0x01, 0x02]);
    expect(decodeMessage(Outer, unpacked).dims).toEqual([1n, 2n]);
    expect(decodeMessage(Outer, packed).dims).toEqual([1n, 2n]);
  });

  it('round-trips every field kind, maps, negative numbers and recursion', () => {
    const value = {
      id: -5n,
      name: 'modèle',
      dims: [1n, -1n, 2n ** 40n],
      values: [1.5, -2.25],
      data: new Uint8Array([1, 2, 3]),
      inner: [{ label: 'a', child: { label: 'b' } }],
      attrs: { k: { label: 'v' } },
      flag: true,
      delta: -123456789n,
      ratio: Math.PI,
      small: -7,
    };
    expect(decodeMessage(Outer, encodeMessage(Outer, value))).toEqual(value);
  });

  it('keeps unknown fields so re-encoding is lossless', () => {
    // field 15, varint 1, which the schema does not know
    const bytes = new Uint8Array([0x08, 0x01, 0x78, 0x01]);
    const decoded = decodeMessage(Outer, bytes);
    expect(decoded.$unknown).toHaveLength(1);
    expect([...encodeMessage(Outer, decoded)]).toEqual([...bytes]);
  });

  it('keeps a map key named __proto__ as data, not as the prototype', () => {
    const bytes = encodeMessage(Outer, { attrs: { ['__proto__']: { label: 'x' }, ok: { label: 'y' } } });
    const attrs = decodeMessage(Outer, bytes).attrs as Record<string, unknown>;
    expect(Object.getPrototypeOf(attrs)).toBe(null);
    expect(Object.keys(attrs).sort()).toEqual(['__proto__', 'ok']);
  });

  it('returns bytes as views of the input, not copies', () => {
    const bytes = encodeMessage(Outer, { data: new Uint8Array(1000).fill(7) });
    const decoded = decodeMessage(Outer, bytes);
    expect((decoded.data as Uint8Array).buffer).toBe(bytes.buffer);
  });

  it('refuses lengths past the end, bad wire types and excessive nesting with typed errors', () => {
    expect(() => decodeMessage(Outer, new Uint8Array([0x12, 0x05, 0x68]), { path: 'm.pb' })).toThrow(
      /m.pb: protobuf Outer at byte 2/,
    );
    expect(() => decodeMessage(Outer, new Uint8Array([0x15, 0, 0, 0, 0]))).toThrow(/wire type 5/);
    let deep: Record<string, unknown> = { label: 'leaf' };
    for (let i = 0; i <= MAX_PROTOBUF_DEPTH + 1; i++) deep = { child: deep };
    expect(() => decodeMessage(Inner, encodeMessage(Inner, deep))).toThrow(/nested deeper/);
  });

  it('never throws anything but FerryError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeMessage(Outer, bytes);
        } catch (error) {
          if (!(error instanceof FerryError)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
