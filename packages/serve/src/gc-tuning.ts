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
 * Sets V8's heap growing factor for a serving process, unless the operator chose one (node
 * --heap-growing-percent=N, or NODE_OPTIONS). It is read at each mark-compact, so setting it at
 * start takes effect; --max-semi-space-size, by contrast, is fixed when the heap is created
 * (measured: v8.setFlagsFromString of it changes nothing in Node 20), and a larger young
 * generation made mark-compacts more frequent here, not less.
 */
export function tuneGcForServing(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  const chosen = (arg: string) => /^--heap[-_]growing[-_]percent\b/.test(arg);
  if (execArgv.some(chosen) || nodeOptions.split(/\s+/).some(chosen)) return false;
  setFlagsFromString(`--heap-growing-percent=${SERVING_HEAP_GROWING_PERCENT}`);
  return true;
}
