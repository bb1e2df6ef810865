/**
 * ferry serve in a process of its own for the pinned serve benchmark, started under `taskset -c`:
 *   node bench/lib/serve-main.mjs REPO [SERVE_MODULE]
 * SERVE_MODULE (default @ferry/serve) is the module whose startServer runs: another build of
 * packages/serve (a copied dist/index.js) for an A/B run of two builds on the same machine.
 * Prints {"httpPort","grpcPort"} on stdout once ready; SIGTERM closes the server and exits (with
 * --cpu-prof, node writes the profile then). Plain JavaScript, so no TypeScript loader sits in
 * the measured process: it is what `ferry serve REPO --grpc-port 0 --log-level warn` runs.
 * With FERRY_BENCH_GC=1 it prints, on stderr at SIGTERM, the main thread's GC pauses since it was
 * ready (count, total and longest by kind, from node's 'gc' performance entries).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';

const [repo, module = '@ferry/serve'] = process.argv.slice(2);
const { startServer } = await import(module);
const server = await startServer({ path: repo, httpPort: 0, grpcPort: 0, logLevel: 'warn' });
const gc = process.env.FERRY_BENCH_GC ? watchGc() : undefined;
const allocations = process.env.FERRY_BENCH_ALLOC ? await sampleAllocations() : undefined;
process.stdout.write(`${JSON.stringify({ httpPort: server.httpPort, grpcPort: server.grpcPort })}\n`);
process.once('SIGTERM', async () => {
  if (allocations) await allocations();
  if (gc) process.stderr.write(`gc ${module} ${process.execArgv.join(' ')}: ${gc()}\n`);
  server.close().finally(() => process.exit(0));
});

/** GC pauses by kind (perf_hooks.constants.NODE_PERFORMANCE_GC_*: 1 minor, 4 major, 8 incremental, 16 weak callbacks). */
function watchGc() {
  const NAMES = { 1: 'scavenge', 4: 'mark-compact', 8: 'incremental', 16: 'weakcb' };
  const kinds = {};
  // FERRY_BENCH_TRACE=DIR: every pause (start ms since the epoch, ms, kind) to DIR/gc-PID.json at exit
  const trace = process.env.FERRY_BENCH_TRACE;
  const pauses = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const name = NAMES[entry.detail?.kind] ?? String(entry.detail?.kind);
      const k = (kinds[name] ??= { n: 0, ms: 0, max: 0 });
      k.n++;
      k.ms += entry.duration;
      k.max = Math.max(k.max, entry.duration);
      if (trace) pauses.push([performance.timeOrigin + entry.startTime, entry.duration, entry.detail?.kind]);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  if (trace)
    process.on('exit', () => writeFileSync(join(trace, `gc-${process.pid}.json`), JSON.stringify(pauses)));
  return () =>
    Object.entries(kinds)
      .map(([name, k]) => `${name} ${k.n}x ${k.ms.toFixed(0)} ms (max ${k.max.toFixed(1)})`)
      .join(', ');
}

/**
 * FERRY_BENCH_ALLOC=N: V8's sampling heap profiler from ready to SIGTERM, objects the GC already
 * collected included, so it shows what the hot path allocates; prints the N functions that
 * allocated the most bytes (self) on stderr.
 */
async function sampleAllocations() {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    // FERRY_BENCH_ALLOC_PROMOTED=1: leave out what scavenges freed, so what remains is what was
    // promoted (and freed by a mark-compact) or is still live: what makes the old generation grow
    includeObjectsCollectedByMinorGC: !process.env.FERRY_BENCH_ALLOC_PROMOTED,
  });
  return async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    const self = new Map();
    let total = 0;
    const walk = (node) => {
      const bytes = node.selfSize;
      total += bytes;
      const f = node.callFrame;
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + bytes);
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.FERRY_BENCH_ALLOC) || 25);
    process.stderr.write(`allocations (${(total / 2 ** 20).toFixed(0)} MiB sampled):\n`);
    for (const [key, bytes] of top) process.stderr.write(`  ${((100 * bytes) / total).toFixed(1)}% ${key}\n`);
  };
}
