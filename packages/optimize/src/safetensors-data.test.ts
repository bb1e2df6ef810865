import { FerryError } from '@ferry/formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeSamples, parseSamples } from './safetensors-data.js';

const x = new Float32Array([1, 2, 3, 4, 5, 6]);
const ids = new BigInt64Array([7n, 8n]);
const file = encodeSamples([
  { name: 'x', dtype: 'F32', shape: [2, 3], bytes: new Uint8Array(x.buffer) },
  { name: 'ids', dtype: 'I64', shape: [2], bytes: new Uint8Array(ids.buffer) },
]);

function withHeader(header: unknown, data = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('sample files (safetensors)', () => {
  it('round-trips tensors', () => {
    const [a, b] = parseSamples(file, 's.safetensors');
    expect(a).toMatchObject({ name: 'x', dtype: 'F32', shape: [2, 3] });
    expect([...new Float32Array(a!.bytes.slice().buffer)]).toEqual([...x]);
    expect(b).toMatchObject({ name: 'ids', dtype: 'I64', shape: [2] });
  });

  it.each([
    [
      'a gap between tensors',
      { a: { dtype: 'U8', shape: [1], data_offsets: [1, 2] } },
      2,
      /starts at 1, expected 0/,
    ],
    [
      'a size that does not fit the shape',
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } },
      4,
      /4 bytes, F32 \[2\] needs 8/,
    ],
    [
      'offsets past the data',
      { a: { dtype: 'U8', shape: [9], data_offsets: [0, 9] } },
      4,
      /outside the 4-byte data area/,
    ],
    [
      'a dtype samples cannot be',
      { a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } },
      8,
      /dtype C64 is not a sample dtype/,
    ],
    [
      'bytes after the last tensor',
      { a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } },
      3,
      /2 bytes after the last tensor/,
    ],
    ['a negative dim', { a: { dtype: 'U8', shape: [-1], data_offsets: [0, 0] } }, 0, /non-negative integers/],
  ])('refuses %s', (_what, header, dataBytes, message) => {
    expect(() => parseSamples(withHeader(header, new Uint8Array(dataBytes)), 's.safetensors')).toThrow(
      message,
    );
  });

  it('refuses a header length past the file or over the limit before reading it', () => {
    const big = new Uint8Array(16);
    new DataView(big.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(() => parseSamples(big, 's')).toThrow(/over the limit of 100000000/);
    new DataView(big.buffer).setBigUint64(0, 100n, true);
    expect(() => parseSamples(big, 's')).toThrow(/runs past the end/);
  });

  it('fuzz: mutations give tensors or a FerryError, nothing else', () => {
    const mutation = fc.oneof(
      fc
        .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 6 })
        .map((flips) => {
          const out = new Uint8Array(file);
          for (const [at, bit] of flips) out[at % out.length]! ^= 1 << bit;
          return out;
        }),
      fc.nat().map((n) => file.subarray(0, n % file.length)),
      fc.uint8Array({ maxLength: 200 }),
    );
    fc.assert(
      fc.property(mutation, (bytes) => {
        try {
          parseSamples(bytes, 'fuzz.safetensors');
        } catch (error) {
          if (!(error instanceof FerryError)) throw error;
        }
      }),
      { numRuns: 500 },
    );
  });
});
