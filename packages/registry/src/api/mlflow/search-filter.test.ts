import { describe, expect, it } from 'vitest';
import { parseOrderBy, parseSearchFilter } from './search-filter.js';

describe("MLflow's run search grammar", () => {
  it('reads metrics, params, tags and attributes, quoted keys and lists', () => {
    expect(
      parseSearchFilter(
        "metrics.acc > 0.5 AND params.`learning rate` = '0.1' AND tags.\"team name\" LIKE 'r%' AND attributes.status IN ('FINISHED', \"FAILED\") AND run_name != 'x' AND metric.loss <= -1e-3",
      ),
    ).toEqual([
      { entity: 'metric', key: 'acc', op: '>', value: 0.5 },
      { entity: 'param', key: 'learning rate', op: '=', value: '0.1' },
      { entity: 'tag', key: 'team name', op: 'LIKE', value: 'r%' },
      { entity: 'attribute', key: 'status', op: 'IN', value: ['FINISHED', 'FAILED'] },
      { entity: 'attribute', key: 'run_name', op: '!=', value: 'x' },
      { entity: 'metric', key: 'loss', op: '<=', value: -0.001 },
    ]);
    expect(parseSearchFilter("params.lr not in ('a') and start_time >= 5")).toEqual([
      { entity: 'param', key: 'lr', op: 'NOT IN', value: ['a'] },
      { entity: 'attribute', key: 'start_time', op: '>=', value: 5 },
    ]);
    expect(parseSearchFilter('  ')).toEqual([]);
  });

  it('refuses what MLflow refuses, naming the rule', () => {
    const reason = (text: string) => {
      try {
        parseSearchFilter(text);
        return 'accepted';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(reason("metrics.acc = 'high'")).toMatch(/metrics.acc compares with a number/);
    expect(reason('params.lr > 1')).toMatch(/lr takes =, !=, LIKE, ILIKE, IN or NOT IN/);
    expect(reason("tags.a = 'x' OR tags.b = 'y'")).toMatch(/OR is not supported/);
    expect(reason("tags.a = 'x' AND")).toMatch(/ends with AND/);
    expect(reason("params.lr IN 'a'")).toMatch(/IN takes a list/);
    expect(reason("datasets.name = 'x'")).toMatch(/unknown prefix "datasets"/);
    expect(reason('metrics.acc >')).toMatch(/expected a value after >/);
    expect(reason("x = 'a' ; DROP")).toMatch(/cannot read at character/);
    expect(reason(Array.from({ length: 21 }, (_, i) => `params.p${i} = 'a'`).join(' AND '))).toMatch(
      /more than 20 conditions/,
    );
    expect(reason(`params.x = '${'a'.repeat(2000)}'`)).toMatch(/longer than 2000 characters/);
  });

  it('reads order_by terms', () => {
    expect(parseOrderBy(['metrics.acc DESC', 'attributes.start_time', 'params.lr asc'])).toEqual([
      { entity: 'metric', key: 'acc', descending: true },
      { entity: 'attribute', key: 'start_time', descending: false },
      { entity: 'param', key: 'lr', descending: false },
    ]);
    expect(() => parseOrderBy(Array.from({ length: 11 }, () => 'name'))).toThrow(/at most 10 terms/);
  });
});
