import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isServeError } from '../errors.js';
import type { ServedVersion } from '../repository/served-version.js';
import { DATATYPES } from '@ferry/serving-api';
import { decodeRawTensor, encodeRawTensor } from './binary-data.js';
import { checkInputs } from './inference.js';
import { decodeJsonTensor, encodeJsonData } from './json-data.js';
import { parseRestInfer } from './rest-infer.js';

describe('JSON tensor data', () => {
  it('BF16 and FP16 from JSON numbers, rounded, and back', () => {
    const bf = decodeJsonTensor('BF16', [3], [1, -2.5, 3.1], 'x');
    expect(bf.datatype === 'BF16' && Array.from(bf.bytes)).toEqual([0x80, 0x3f, 0x20, 0xc0, 0x46, 0x40]);
    expect(encodeJsonData(bf)).toBe('[1,-2.5,3.09375]');
    const half = decodeJsonTensor('FP16', [2], [0.1, 'NaN'], 'x');
    expect(encodeJsonData(half)).toBe('[0.0999755859375,"NaN"]');
  });

  it('FP32 and FP64: plain numbers, "NaN"/"Infinity" strings, and views at any offset, both ways', () => {
    const plain = decodeJsonTensor('FP32', [3], [0.1, -2, 3e38], 'x');
    expect(plain.datatype === 'FP32' && Array.from(new Float32Array(plain.bytes.buffer))).toEqual(
      Array.from(Float32Array.of(0.1, -2, 3e38)),
    );
    expect(encodeJsonData(plain)).toBe(`[${Math.fround(0.1)},-2,${Math.fround(3e38)}]`);
    const special = decodeJsonTensor('FP64', [3], [1.5, 'NaN', '-Infinity'], 'x');
    expect(encodeJsonData(special)).toBe('[1.5,"NaN","-Infinity"]');
    expect(() => decodeJsonTensor('FP32', [2], [1, true], 'x')).toThrow(
      /element 1 \(true\) must be a number for FP32/,
    );
    // an output row sliced out of a batch at an odd byte offset is read element by element
    const body = new Uint8Array(13);
    body.set(new Uint8Array(Float32Array.of(2.5, -1, 0.25).buffer), 1);
    expect(encodeJsonData({ datatype: 'FP32', shape: [3], bytes: body.subarray(1) })).toBe('[2.5,-1,0.25]');
  });

  it('64-bit integers: exact as strings, safe as numbers, refused when rounded', () => {
    const t = decodeJsonTensor('INT64', [3], ['-9223372036854775808', 42, '9007199254740993'], 'ids');
    expect(encodeJsonData(t)).toBe('[-9223372036854775808,42,9007199254740993]');
    expect(() => decodeJsonTensor('INT64', [1], [2 ** 60], 'ids')).toThrow(/must be an integer for INT64/);
    expect(() => decodeJsonTensor('UINT64', [1], ['18446744073709551616'], 'ids')).toThrow(
      /outside UINT64's range/,
    );
  });

  it('nested arrays flatten; nesting past the limit is refused', () => {
    expect(
      encodeJsonData(
        decodeJsonTensor(
          'INT32',
          [2, 2],
          [
            [1, 2],
            [3, 4],
          ],
          'm',
        ),
      ),
    ).toBe('[1,2,3,4]');
    let deep: unknown = [1];
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(() => decodeJsonTensor('INT32', Array(41).fill(1), deep, 'm')).toThrow(
      /nests deeper than 32 levels/,
    );
  });

  it('BYTES round-trip through the binary layout', () => {
    const t = decodeJsonTensor('BYTES', [3], ['a', '', 'ünï'], 's');
    const raw = encodeRawTensor(t);
    expect(Array.from(raw.subarray(0, 5))).toEqual([1, 0, 0, 0, 0x61]);
    expect(encodeJsonData(decodeRawTensor('BYTES', [3], raw, 's'))).toBe('["a","","ünï"]');
  });
});

/** A served model's metadata: all the codec and checks look at. */
const identity = {
  model: 'identity',
  version: '1',
  maxBatchSize: 8,
  inputs: DATATYPES.map((d) => ({ name: `in_${d}`, datatype: d, shape: [-1, 2] })),
  outputs: DATATYPES.map((d) => ({ name: `out_${d}`, datatype: d, shape: [-1, 2] })),
} as unknown as ServedVersion;

function validBinaryRequest(): { body: Uint8Array; headerLength: string } {
  const parts = DATATYPES.map((d) =>
    encodeRawTensor(
      decodeJsonTensor(d, [1, 2], d === 'BYTES' ? ['ab', 'c'] : d === 'BOOL' ? [true, false] : [1, 2], d),
    ),
  );
  const header = Buffer.from(
    JSON.stringify({
      inputs: DATATYPES.map((d, i) => ({
        name: `in_${d}`,
        datatype: d,
        shape: [1, 2],
        parameters: { binary_data_size: parts[i]!.length },
      })),
      parameters: { binary_data_output: true },
    }),
  );
  return { body: Buffer.concat([header, ...parts]), headerLength: String(header.length) };
}

/** Parses, checks and decodes a request as the REST route does; returns the header length used. */
function parseAll(body: Uint8Array, headerLength: string): void {
  const parsed = parseRestInfer(body, headerLength, identity);
  checkInputs(identity, parsed.headers);
  parsed.decode();
}

describe('REST request parsing under mutation (fuzz)', () => {
  const { body, headerLength } = validBinaryRequest();

  it('the unmutated request decodes', () => {
    expect(() => parseAll(body, headerLength)).not.toThrow();
  });

  const onlyServeErrors = (mutated: Uint8Array, length: string) => {
    try {
      parseAll(mutated, length);
    } catch (error) {
      if (!isServeError(error)) throw error;
    }
  };

  it('bit flips, truncations and splices raise only ServeError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(body.length - 1), fc.integer({ min: 0, max: 7 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (flips) => {
          const mutated = Uint8Array.from(body);
          for (const [at, bit] of flips) mutated[at]! ^= 1 << bit;
          onlyServeErrors(mutated, headerLength);
        },
      ),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.nat(body.length), fc.nat(body.length + 8), (cut, length) => {
        onlyServeErrors(body.subarray(0, cut), String(length));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.nat(body.length),
        fc.nat(body.length),
        fc.uint8Array({ maxLength: 64 }),
        (from, to, junk) => {
          const [a, b] = from < to ? [from, to] : [to, from];
          onlyServeErrors(Buffer.concat([body.subarray(0, a), junk, body.subarray(b)]), headerLength);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('arbitrary JSON documents raise only ServeError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (doc) => {
        onlyServeErrors(Buffer.from(JSON.stringify(doc)), String(Buffer.byteLength(JSON.stringify(doc))));
      }),
      { numRuns: 300 },
    );
  });

  it('raw BYTES data of any shape raises only ServeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(8), (raw, n) => {
        try {
          decodeRawTensor('BYTES', [n], raw, 's');
        } catch (error) {
          if (!isServeError(error)) throw error;
        }
      }),
      { numRuns: 400 },
    );
  });
});
