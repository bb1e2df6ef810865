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

  it("charges ferry's own socket transports to themselves, apart from node's", () => {
    const serve = 'file:///repo/packages/serve/dist';
    const profile: CpuProfile = {
      nodes: [
        frame(1, '(root)', '', [2]),
        frame(2, 'onStreamRead', 'node:internal/stream_base_commons', [3, 4, 6]),
        frame(3, 'receive', `${serve}/protocol/lean-h2-connection.js`, [5]),
        frame(4, '#onData', `${serve}/protocol/lean-http-transport.js`),
        frame(5, 'decode', `${serve}/protocol/hpack.js`),
        frame(6, 'readFrame', `${serve}/protocol/h2-frames.js`),
      ],
      startTime: 0,
      samples: [2, 3, 4, 5, 6],
      timeDeltas: [1000, 1000, 1000, 1000, 1000],
    };
    expect(summariseProfile(profile).map((s) => [s.category, s.samples])).toEqual([
      ["transport (ferry's lean HTTP/2)", 3],
      ['transport (node:http, net)', 1],
      ["transport (ferry's lean HTTP/1.1)", 1],
    ]);
  });
});
