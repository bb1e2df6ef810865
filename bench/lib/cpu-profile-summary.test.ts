import { describe, expect, it } from 'vitest';
import { type CpuProfile, summariseProfile } from './cpu-profile-summary.js';

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url },
  children,
});

describe('CPU profile summary', () => {
  it('charges each sample once to the innermost categorised frame and leaves idle out', () => {
    const serve = 'file:///repo/packages/serve/dist';
    const profile: CpuProfile = {
      nodes: [
        frame(1, '(root)', '', [2, 3, 4, 5, 9]),
        frame(2, '(idle)', ''),
        frame(3, '(garbage collector)', ''),
        frame(4, 'parserOnHeadersComplete', 'node:_http_common', []),
        frame(5, 'handler', 'file:///repo/node_modules/fastify/lib/handleRequest.js', [6]),
        frame(6, 'inferRoute', `${serve}/protocol/rest.js`, [7, 8]),
        frame(7, 'parseRestInfer', `${serve}/protocol/rest-infer.js`, [10]),
        frame(8, 'submit', `${serve}/scheduler/batcher.js`),
        frame(9, 'processTicksAndRejections', 'node:internal/process/task_queues'),
        frame(10, 'concat', 'node:buffer'),
      ],
      startTime: 1_000_000,
      // idle, GC, HTTP (a long delta: the thread was off its core), parse x3 (via Buffer.concat), batch, other
      samples: [2, 3, 4, 10, 10, 10, 8, 9],
      timeDeltas: [5000, 1000, 2000, 1000, 1000, 1000, 1000, 1000],
    };
    const summary = summariseProfile(profile);
    // each sample counts once, the long-delta HTTP one too
    expect(summary.map((s) => [s.category, s.samples])).toEqual([
      ['parsing and encoding', 3],
      ['GC', 1],
      ['transport (node:http, net)', 1],
      ['batching', 1],
      ['other JavaScript (promises, timers, node internals)', 1],
    ]);
    expect(summary.reduce((sum, s) => sum + s.share, 0)).toBeCloseTo(1);
    expect(summary[0]!.share).toBeCloseTo(3 / 7);
    // a window keeps only the samples taken in it: the three parsing samples end at +9000..+11000 µs
    const windowed = summariseProfile(profile, { fromUs: 1_008_500, toUs: 1_011_000 });
    expect(windowed.map((s) => [s.category, s.samples])).toEqual([['parsing and encoding', 3]]);
  });
});
