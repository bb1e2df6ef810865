import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServeMetrics } from '@ferry/serve';
import { histogramQuantile, MAX_SAMPLES, parsePrometheus, rates } from './prometheus.js';

/** Metrics text as a real @ferry/serve server writes it (prom-client), after `rows` batched requests. */
async function scrape(metrics: ServeMetrics): Promise<string> {
  return metrics.registry.metrics();
}

describe('prometheus text from @ferry/serve', () => {
  it('reads counters, labels and histogram buckets', async () => {
    const metrics = new ServeMetrics();
    metrics.succeeded('team/m"x', '1');
    const samples = parsePrometheus(await scrape(metrics));
    const success = samples.find((s) => s.name === 'ferry_request_success_total');
    expect(success).toEqual({
      name: 'ferry_request_success_total',
      labels: { model: 'team/m"x', version: '1' },
      value: 1,
    });
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
  });

  it('turns two scrapes into request rate, p99 and average batch size', async () => {
    const metrics = new ServeMetrics();
    const observer = metrics.observer('mnist', '2');
    const before = parsePrometheus(await scrape(metrics));
    for (let batch = 0; batch < 25; batch++) {
      for (let i = 0; i < 8; i++) {
        metrics.succeeded('mnist', '2');
        observer.queued(0.0008); // bucket (0.0005, 0.001]
      }
      observer.executed(8, 8, 0.02); // bucket (0.01, 0.025]
    }
    metrics.failed('mnist', '2', 'FERRY_SERVE_TIMEOUT');
    const after = parsePrometheus(await scrape(metrics));
    const r = rates(before, after, 2, { model: 'mnist' });
    expect(r.requestsPerSecond).toBe(201 / 2);
    expect(r.averageBatch).toBe(8);
    // p99 inside the two buckets, as histogram_quantile interpolates them.
    expect(r.p99Seconds).toBeCloseTo(0.000995 + 0.02485, 6);
    expect(rates(before, after, 2, { model: 'other' })).toEqual({
      requestsPerSecond: 0,
      p99Seconds: null,
      averageBatch: null,
      byVersion: {},
    });
    expect(r.byVersion).toEqual({ '2': 201 / 2 });
  });

  it('splits the request rate by version while an alias moves from version 1 to 2', async () => {
    const metrics = new ServeMetrics();
    metrics.succeeded('classifier', '1');
    metrics.succeeded('other', '7');
    const before = parsePrometheus(await scrape(metrics));
    for (let i = 0; i < 6; i++) metrics.succeeded('classifier', '1');
    for (let i = 0; i < 3; i++) metrics.succeeded('classifier', '2');
    metrics.failed('classifier', '2', 'FERRY_SERVE_TIMEOUT');
    const during = parsePrometheus(await scrape(metrics));
    expect(rates(before, during, 2, { model: 'classifier' }).byVersion).toEqual({ '1': 3, '2': 2 });
    for (let i = 0; i < 8; i++) metrics.succeeded('classifier', '2');
    const after = parsePrometheus(await scrape(metrics));
    // version 1 drained: its counter stays, so it answered nothing in this interval
    expect(rates(during, after, 2, { model: 'classifier' }).byVersion).toEqual({ '2': 4 });
  });

  it('counts a restarted server (counters going down) from zero', () => {
    const before = parsePrometheus('ferry_request_success_total{model="m",version="1"} 500\n');
    const after = parsePrometheus('ferry_request_success_total{model="m",version="1"} 10\n');
    expect(rates(before, after, 1).requestsPerSecond).toBe(10);
  });

  it('computes quantiles like histogram_quantile', () => {
    const buckets = new Map([
      [0.1, 50],
      [0.5, 90],
      [1, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1, 9);
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.95, 9);
    expect(histogramQuantile(0.99, new Map([[Number.POSITIVE_INFINITY, 0]]))).toBeNull();
    expect(
      histogramQuantile(
        0.99,
        new Map([
          [0.5, 0],
          [Number.POSITIVE_INFINITY, 4],
        ]),
      ),
    ).toBe(0.5);
  });

  it('never throws on mutated or random text and stops at MAX_SAMPLES', async () => {
    const metrics = new ServeMetrics();
    metrics.observer('m', '1').executed(4, 4, 0.01);
    const real = await scrape(metrics);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 400 }),
        fc.nat(real.length),
        fc.nat(real.length),
        (junk, at, cut) => {
          for (const text of [junk, real.slice(0, at) + junk + real.slice(at), real.slice(0, cut)]) {
            const samples = parsePrometheus(text);
            expect(Array.isArray(samples)).toBe(true);
            rates(samples, samples, 1);
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(parsePrometheus('a 1\n'.repeat(MAX_SAMPLES + 10)).length).toBe(MAX_SAMPLES);
  });
});
