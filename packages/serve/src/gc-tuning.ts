import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived the last mark-compact before the
 * next: 300 = 4x. A server's live JavaScript heap is small (~20 MB; model weights live in ONNX
 * Runtime's native memory), so V8's own factor left ~23 MB of room, less than the young generation
 * it promotes from, and a mark-compact started after nearly every scavenge under load (their
 * incremental steps up to 36 ms, where p99 is lost). At 4x the room is ~60 MB: on the mid MLP at
 * concurrency 64 (pinned serve bench) mark-compacts fell from 17-20 to 5-6 per run. Cost: up to
 * 3x the live heap of garbage held between collections (~60 MB here); --max-old-space-size still
 * caps it. docs/serving.md, "Memory and the garbage collector".
 */
export const SERVING_HEAP_GROWING_PERCENT = 300;

/**
 * The V8 flags a serving process gets, each unless the operator named it (or its --no- form):
 * - the heap growing factor above. It is read at each mark-compact, so setting it at start takes
 *   effect; --max-semi-space-size, by contrast, is fixed when the heap is created (measured:
 *   v8.setFlagsFromString of it changes nothing in Node 20).
 * - no allocation-site pretenuring. V8 watches the object literals allocated at each site and,
 *   when nearly all of one site's objects are alive at a scavenge, allocates that site's objects
 *   in the old generation from then on. A request's objects are all alive while it is in flight
 *   (a batch takes ~15 ms), and under load --trace-pretenuring showed sites tenured with every
 *   object found alive (created = found); their objects then die in the old generation, where
 *   only a mark-compact frees them, and until then (the likely mechanism) keep the young objects
 *   they point to alive through each scavenge, which promotes those too (--trace-gc-nvp: ~1.1 MB
 *   promoted per scavenge, 82-100% of what the last one kept; the sampling heap profiler's
 *   promoted objects were the request path's: Maps, infer's and the batcher's promises, split).
 *   On the mid MLP at concurrency 64 that was a 20-30 ms mark-compact every ~1.6 s, the requests
 *   in flight across each one being the slowest 1% (p99 3.4x p50). Without it, ~3 KB promoted per
 *   scavenge and mark-compacts 43 -> 2 per server in an A/B run. Setting it at start takes effect
 *   (measured: --trace-pretenuring then reports no decision at all).
 */
const SERVING_FLAGS: readonly { readonly name: string; readonly value: string }[] = [
  { name: 'heap-growing-percent', value: `--heap-growing-percent=${SERVING_HEAP_GROWING_PERCENT}` },
  { name: 'allocation-site-pretenuring', value: '--no-allocation-site-pretenuring' },
];

/**
 * Sets V8's flags for a serving process (SERVING_FLAGS), each unless the operator chose it (node
 * --FLAG or --no-FLAG, or in NODE_OPTIONS; V8 reads - and _ alike). Returns the flags it set.
 */
export function tuneGcForServing(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map((arg) => arg.replaceAll('_', '-'));
  const set: string[] = [];
  for (const flag of SERVING_FLAGS) {
    const chosen = new RegExp(`^--(?:no-)?${flag.name}(?:=|$)`);
    if (given.some((arg) => chosen.test(arg))) continue;
    setFlagsFromString(flag.value);
    set.push(flag.value);
  }
  return set;
}
