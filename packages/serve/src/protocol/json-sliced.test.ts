import { describe, expect, it } from 'vitest';
import { parseJsonSliced } from './json-sliced.js';

const VALID = [
  '{}',
  '[]',
  ' { "a" : [ 1 , -2.5e3 , 0 , -0 , 1E-7 , true , false , null ] } ',
  '{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,2,3],[4,5,6]]}]}',
  '{"s":"plain","e":"tab\\t quote\\" slash\\\\ uni\\u00e9 \\ud83d\\ude00","k\\"ey":1}',
  '{"__proto__":{"polluted":true},"prototype":{"constructor":1}}',
  '{"\\u0000expect-key":[1,[2,[3,[]]],{}]}',
  '"top"',
  '42',
  '[1,2,3,4,5,6,7,8,9,10,"x",11,12,[13,14],15]',
  '[12345678901234567890, 1.7976931348623157e308, 5e-324, 0.1]',
];
const INVALID = [
  '',
  '{',
  '[1,]',
  '{"a":1,}',
  '[01]',
  '[1 2]',
  '[1.]',
  '[-]',
  '[+1]',
  '{"a" 1}',
  '{a:1}',
  '["unterminated]',
  '["raw\u0001control"]',
  '["bad \\x escape"]',
  '[1]]',
  '[1] x',
  'tru',
  '[NaN]',
  '[.5]',
  '[1e]',
];

describe('parseJsonSliced', () => {
  it.each(VALID)('builds what JSON.parse builds: %s', async (text) => {
    const ours = await parseJsonSliced(text, 1000);
    expect(ours).toStrictEqual(JSON.parse(text));
    if (text.includes('__proto__')) {
      expect(Object.getPrototypeOf(ours)).toBe(Object.prototype);
      expect(Object.hasOwn(ours as object, '__proto__')).toBe(true);
    }
  });

  it.each(INVALID)('refuses what JSON.parse refuses: %j', async (text) => {
    expect(() => JSON.parse(text)).toThrow();
    await expect(parseJsonSliced(text, 1000)).rejects.toThrow(
      /^the body is not valid JSON: .* at character \d+$/,
    );
  });

  it('parses long number runs (split at commas) exactly like JSON.parse', async () => {
    const data = Array.from({ length: 60_000 }, (_, k) => (k % 7 === 0 ? -k / 3 : k * 1e-3));
    const text = JSON.stringify({ data: [data, data.slice(0, 5), [], data] });
    expect(await parseJsonSliced(text, 1000)).toStrictEqual(JSON.parse(text));
  });

  it('yields to the event loop while it parses a large document', async () => {
    const text = JSON.stringify({ data: Array.from({ length: 50_000 }, (_, k) => [k, `${k}`]) });
    let turns = 0;
    const tick = () => {
      turns++;
      if (!finished) setImmediate(tick);
    };
    let finished = false;
    setImmediate(tick);
    const parsed = parseJsonSliced(text, 0).finally(() => {
      finished = true;
    });
    expect(await parsed).toStrictEqual(JSON.parse(text));
    // sliceMs 0: a turn of the loop between every CHECK_EVERY tokens
    expect(turns).toBeGreaterThan(100);
  });
});
