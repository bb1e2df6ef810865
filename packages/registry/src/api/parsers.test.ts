import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../errors.js';
import { parseCard } from './card.js';
import { parseFilter } from './mlflow/filter.js';
import { parseRange } from './range.js';

/** Only RegistryError may come out of a parser, whatever the input. */
function onlyRegistryErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!isRegistryError(error)) throw error;
  }
}

const FILTERS = [
  "name = 'a'",
  'name LIKE \'fr%\' AND tags.`stage x` = "beta"',
  "run_id = 'abc' AND source_path != 's3://x'",
];
const CARD = '---\nlicense: mit\ntags: [a, b]\nanchors: &x {k: v}\nuse: *x\n---\n# Card\n';

describe('request parsers', () => {
  it('parses MLflow filters', () => {
    expect(parseFilter(FILTERS[1], 'versions')).toEqual([
      { field: 'name', op: 'LIKE', value: 'fr%' },
      { field: 'tag', key: 'stage x', op: '=', value: 'beta' },
    ]);
    expect(parseFilter("name ILIKE 'it\\'s%'", 'models')).toEqual([
      { field: 'name', op: 'ILIKE', value: "it's%" },
    ]);
    expect(() => parseFilter("name = 'a' OR name = 'b'", 'models')).toThrow(/AND/);
    expect(() => parseFilter("run_id = 'x'", 'models')).toThrow(/unknown key/);
  });

  it('parses model cards and ranges', () => {
    expect(parseCard(CARD).metadata).toEqual({
      license: 'mit',
      tags: ['a', 'b'],
      anchors: { k: 'v' },
      use: { k: 'v' },
    });
    expect(parseCard('# no front matter').metadata).toEqual({});
    expect(parseRange('bytes=0-9', 100, 'f')).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=-10', 100, 'f')).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=90-', 100, 'f')).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=0-1,5-6', 100, 'f')).toBeUndefined();
    expect(() => parseRange('bytes=100-', 100, 'f')).toThrow(/not satisfiable/);
  });

  it('fuzz: random and mutated filters, cards and ranges only raise RegistryError', () => {
    const mutated = (seeds: string[]) =>
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc
          .tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(), fc.string({ maxLength: 20 }))
          .map(([s, a, b, insert]) => {
            const i = a % (s.length + 1);
            const j = Math.min(s.length, i + (b % 10));
            return s.slice(0, i) + insert + s.slice(j);
          }),
      );
    fc.assert(
      fc.property(mutated(FILTERS), (text) => {
        onlyRegistryErrors(() => parseFilter(text, 'versions'));
        onlyRegistryErrors(() => parseFilter(text, 'models'));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(mutated([CARD]), (text) => onlyRegistryErrors(() => parseCard(text))),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(mutated(['bytes=0-9', 'bytes=-5', 'bytes=7-']), fc.nat(1000), (text, size) =>
        onlyRegistryErrors(() => parseRange(text, size, 'f')),
      ),
      { numRuns: 300 },
    );
  });

  it('a billion-laughs card is refused, not expanded', () => {
    const lol = ['---', 'a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      lol.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    lol.push('---', '');
    expect(() => parseCard(lol.join('\n'))).toThrow(/front matter/);
  });
});
