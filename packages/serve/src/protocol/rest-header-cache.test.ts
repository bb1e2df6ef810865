import { describe, expect, it } from 'vitest';
import type { ServedVersion } from '../repository/served-version.js';
import {
  cachedHeaderCount,
  HEADER_CACHE_ENTRIES,
  HEADER_CACHE_MAX_BYTES,
  parseRestInferCached,
} from './rest-header-cache.js';
import { parseRestInfer, type RestInferRequest } from './rest-infer.js';

/** A served model's metadata: all parsing looks at. A fresh one per test: its own cache. */
const servedModel = () =>
  ({
    model: 'm',
    version: '1',
    maxBatchSize: 8,
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
    outputs: [
      { name: 'y', datatype: 'FP32', shape: [-1, 2] },
      { name: 'z', datatype: 'FP32', shape: [-1, 2] },
    ],
  }) as unknown as ServedVersion;

/** A binary request: `header` (JSON text) and the bytes after it. */
function request(header: string, data: Uint8Array = new Uint8Array(Float32Array.of(1, 2).buffer)) {
  const json = Buffer.from(header);
  return { body: Buffer.concat([json, data]), headerLength: String(json.byteLength) };
}

const HEADER = (extra = '') =>
  `{${extra}"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}}],"parameters":{"binary_data_output":true}}`;

/** What a parse says, decoded data included: equal for equal answers. */
function seen(parsed: RestInferRequest) {
  const decoded = (() => {
    try {
      return [...parsed.decode()].map(([name, t]) => [name, t.datatype, t.shape, Array.from(t.bytes)]);
    } catch (error) {
      return (error as Error).message;
    }
  })();
  return {
    id: parsed.id,
    headers: parsed.headers,
    outputs: parsed.outputs,
    binary: [...parsed.binaryOutputs],
    timeoutUs: parsed.timeoutUs,
    decoded,
  };
}

/** The result or the error of a parse, cached or not. */
function outcome(parse: () => RestInferRequest) {
  try {
    return seen(parse());
  } catch (error) {
    return { error: (error as { code?: string }).code, message: (error as Error).message };
  }
}

describe('the binary REST header cache', () => {
  const cases: [string, { body: Buffer; headerLength: string }][] = [
    ['plain', request(HEADER())],
    ['with an id', request(HEADER('"id":"r-1",'))],
    [
      'with a timeout',
      request(
        HEADER('"parameters":{"timeout":2000},').replace(',"parameters":{"binary_data_output":true}', ''),
      ),
    ],
    ['named outputs', request(HEADER('"outputs":[{"name":"z","parameters":{"binary_data":false}}],'))],
    ['binary data too short', request(HEADER(), new Uint8Array(4))],
    ['binary data left over', request(HEADER(), new Uint8Array(12))],
    ['not JSON', request('{"inputs":')],
    ['a bad id', request(HEADER('"id":7,'))],
    [
      'an unknown classification',
      request(HEADER('"outputs":[{"name":"y","parameters":{"classification":2}}],')),
    ],
    ['a header length past the body', { body: Buffer.from('{}'), headerLength: '9' }],
    ['a malformed header length', { body: Buffer.from('{}'), headerLength: '1e1' }],
  ];

  it.each(cases)(
    '%s: the same answer or error as the uncached parse, the first time and the next',
    (_, r) => {
      const served = servedModel();
      const uncached = outcome(() => parseRestInfer(r.body, r.headerLength, served));
      expect(outcome(() => parseRestInferCached(r.body, r.headerLength, served))).toEqual(uncached);
      expect(outcome(() => parseRestInferCached(r.body, r.headerLength, served))).toEqual(uncached);
    },
  );

  it('keeps only headers that passed; each refusal is made again', () => {
    const served = servedModel();
    const bad = request(HEADER('"id":7,'));
    for (let i = 0; i < 2; i++)
      expect(() => parseRestInferCached(bad.body, bad.headerLength, served)).toThrow(/"id"|id/);
    expect(cachedHeaderCount(served)).toBe(0);
    const good = request(HEADER());
    parseRestInferCached(good.body, good.headerLength, served);
    parseRestInferCached(good.body, good.headerLength, served);
    expect(cachedHeaderCount(served)).toBe(1);
  });

  it('reads each request its own binary data behind a remembered header', () => {
    const served = servedModel();
    const first = request(HEADER(), new Uint8Array(Float32Array.of(1, 2).buffer));
    const second = request(HEADER(), new Uint8Array(Float32Array.of(3, 4).buffer));
    const values = (r: { body: Buffer; headerLength: string }) =>
      Array.from(
        new Float32Array(
          Uint8Array.from(parseRestInferCached(r.body, r.headerLength, served).decode().get('x')!.bytes)
            .buffer,
        ),
      );
    expect(values(first)).toEqual([1, 2]);
    expect(values(second)).toEqual([3, 4]);
    expect(cachedHeaderCount(served)).toBe(1);
  });

  it('a changed id, parameter or byte is a different header', () => {
    const served = servedModel();
    const parsed = (header: string) => {
      const r = request(header);
      return parseRestInferCached(r.body, r.headerLength, served);
    };
    expect(parsed(HEADER('"id":"a",')).id).toBe('a');
    expect(parsed(HEADER('"id":"b",')).id).toBe('b');
    expect(parsed(HEADER('"id":"a",')).id).toBe('a');
    expect([...parsed(HEADER()).binaryOutputs]).toEqual(['y', 'z']);
    expect([...parsed(HEADER().replace('true', 'false')).binaryOutputs]).toEqual([]);
    expect(parsed(` ${HEADER('"id":"a",')}`).id).toBe('a');
    expect(cachedHeaderCount(served)).toBe(5);
  });

  it('remembers headers per served version', () => {
    const [one, two] = [servedModel(), servedModel()];
    const r = request(HEADER());
    parseRestInferCached(r.body, r.headerLength, one);
    expect(cachedHeaderCount(one)).toBe(1);
    expect(cachedHeaderCount(two)).toBe(0);
  });

  it('holds at most HEADER_CACHE_ENTRIES headers, and none over HEADER_CACHE_MAX_BYTES', () => {
    const served = servedModel();
    for (let i = 0; i < HEADER_CACHE_ENTRIES * 3; i++) {
      const r = request(HEADER(`"id":"${i}",`));
      expect(parseRestInferCached(r.body, r.headerLength, served).id).toBe(String(i));
    }
    expect(cachedHeaderCount(served)).toBe(HEADER_CACHE_ENTRIES);
    const long = request(HEADER(`"id":"${'x'.repeat(HEADER_CACHE_MAX_BYTES)}",`));
    const fresh = servedModel();
    expect(parseRestInferCached(long.body, long.headerLength, fresh).id).toHaveLength(HEADER_CACHE_MAX_BYTES);
    expect(cachedHeaderCount(fresh)).toBe(0);
  });
});
