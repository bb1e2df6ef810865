/**
 * `npm run bench -- serve-pinned` (also run by `npm run bench -- serve`): ferry serve measured
 * fairly on a 2-core machine. The load generator runs on one core and the server (its event loop,
 * ONNX Runtime's thread, GC) on the other, each under `taskset -c` (pinned-process.ts), next to:
 * - the ceiling for that core: onnxruntime-node in process on it, one thread, batch 64 and 128,
 * - the floor for that core: a bare node:http server answering the same bytes,
 * - the naive fastify + onnxruntime-node server, pinned the same way.
 * The server's CPU is read from /proc/PID/stat over the measured seconds; less ONNX Runtime's own
 * CPU per row at the batch size served (from the ceiling runs), it is what ferry itself costs.
 * Then the server's main thread is profiled (--cpu-prof) under the same loads, by category.
 *
 * SERVE_PINNED_CELLS=mid:64:binary,small:64:json runs only those ferry rows (model:concurrency:kind)
 * and prints them (a cell of a reference server, e.g. mid:64:grpc-floor or small:64:naive, runs that
 * row); with SERVE_PINNED_AB=path/to/other/serve/dist/index.js each row runs
 * SERVE_PINNED_ROUNDS times (default 3) against both builds in turn (ABAB; A is this checkout's
 * @ferry/serve, or SERVE_PINNED_A=path/to/its/dist/index.js), for A/B measures of a
 * change to packages/serve on the same machine in the same minutes; with SERVE_PINNED_PROFILE=1 each
 * selected row is profiled instead (SERVE_PINNED_PROFILE_DIR=DIR keeps the .cpuprofile files, for
 * Chrome DevTools). SERVE_PINNED_A_NODE_ARGS (and _B_ in an A/B run) gives the server node flags
 * (--trace-gc, say), in a SERVE_PINNED_CELLS run too. The A/B lines give the tail as p90 / p95 /
 * p99.9 / max as well; FERRY_BENCH_TRACE=DIR (with FERRY_BENCH_GC=1) writes each measured
 * request's start and latency (serve-load.ts) and each server GC pause (serve-main.mjs) to DIR, to
 * lay the slowest requests against the pauses. None of these writes BENCHMARKS.md.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CpuProfile, summariseProfile } from '../lib/cpu-profile-summary.js';
import { LOAD_CORE, type PinnedServer, runPinned, SERVER_CORE, startPinned } from '../lib/pinned-process.js';
import { markdownTable, writeSection } from '../lib/report.js';
import { f0, f1, type Load, type LoadOptions, runLoad, runServedLoad } from '../lib/serve-load-run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE = fileURLToPath(new URL('../.data/serve/repo/', import.meta.url));
const REPO = fileURLToPath(new URL('../.data/serve/pinned/', import.meta.url));
/** Model files (bench/make/serve_mlp.py) and their features per row. */
const MODELS = { small: 64, mid: 1024 } as const;
type Model = keyof typeof MODELS;
/**
 * What the pinned server serves: each model with one intra-op thread and max_queue_delay_us 0,
 * and the mid MLP again as mid_full, configured for full batches (below).
 */
const SERVED = { small: 'small', mid: 'mid', mid_full: 'mid' } as const satisfies Record<string, Model>;
type Served = keyof typeof SERVED;
type Kind = 'json' | 'binary' | 'grpc';
const SECONDS = Number(process.env.SERVE_BENCH_SECONDS ?? 3);
const MAX_BATCH = 128;
/** ORT's CPU per row is measured at these batch sizes and interpolated between them. */
const CEILING_BATCHES = { small: [1, 8, 32, 64, 128], mid: [8, 32, 64, 128] } as const;
const CEILING_SECONDS = 2;
/** The ferry rows: [served model, concurrency, kind]. */
const FERRY_ROWS: readonly [Served, number, Kind][] = [
  ['mid', 64, 'binary'],
  ['mid', 64, 'grpc'],
  ['mid', 64, 'json'],
  ['mid_full', 64, 'binary'],
  ['mid_full', 64, 'grpc'],
  ['small', 64, 'binary'],
  ['small', 64, 'json'],
  ['small', 64, 'grpc'],
  ['small', 1, 'binary'],
  ['small', 1, 'json'],
];
/** The rows profiled: the goals' rows and the JSON-vs-binary pair of the small MLP. */
const PROFILED: readonly [Served, number, Kind][] = [
  ['mid', 64, 'binary'],
  ['mid', 64, 'grpc'],
  ['small', 64, 'binary'],
  ['small', 64, 'json'],
];
/**
 * The profiler's sampling interval: finer than node's default 1 ms, because a sample lands where
 * the main thread resumes after ONNX Runtime's thread had the core (one per batch), and at 1 ms
 * those would be a quarter of a batch's samples.
 */
const PROFILE_INTERVAL_US = 100;
const LABEL = { json: 'JSON REST', binary: 'binary REST', grpc: 'gRPC' } as const;
type Reference = 'naive' | 'floor' | 'grpc-floor';
const REFERENCE_LABEL: Record<Reference, string> = {
  naive: 'naive fastify + ORT (JSON)',
  floor: 'floor: bare node:http, same bytes, no model',
  'grpc-floor': 'floor: bare node:http2, same gRPC bytes, no model',
};

/** What each pinned server's config says: one intra-op thread, as the ceiling runs. */
const CONFIG = `max_batch_size: ${MAX_BATCH}
dynamic_batching:
  max_queue_delay_us: 0
  max_queue_size: 4096
instances:
  intra_op_threads: 1
  inter_op_threads: 1
`;
/**
 * mid_full: a batch waits (up to 20 ms) until it holds 64 rows, all the clients there are. With
 * max_queue_delay_us 0 a closed loop of 64 clients splits into two groups that take turns (~32
 * rows each): one runs while the other queues. On one core that overlap buys nothing (the loop and
 * ONNX Runtime take turns on the core anyway) and ORT's CPU per row is ~30% lower at 64 than at 32.
 */
const CONFIG_FULL = CONFIG.replace(
  'max_queue_delay_us: 0',
  'max_queue_delay_us: 20000\n  preferred_batch_sizes: [64]',
);
/**
 * What was tried in packages/serve against these goals (issue #21; the list is serve-pinned-tried.md), each A/B measured with
 * SERVE_PINNED_AB on the same machine in the same minutes (ABAB, 3 rounds of 2 s, medians; the
 * machine shared, the suite in its own autogroup at priority). Server CPU per request, A -> B.
 */
const TRIED = readFileSync(new URL('./serve-pinned-tried.md', import.meta.url), 'utf8').trimEnd();

/** Unmeasured load before the measured rows, so the server's JIT has compiled its hot paths. */
const WARMUP_SECONDS = 1;

function prepareRepo(): void {
  if (!existsSync(`${SOURCE}mid/1/model.onnx`))
    execFileSync('/usr/bin/python3', ['bench/make/serve_mlp.py', SOURCE], { cwd: ROOT, stdio: 'inherit' });
  for (const [name, model] of Object.entries(SERVED)) {
    mkdirSync(`${REPO}${name}/1`, { recursive: true });
    copyFileSync(`${SOURCE}${model}/1/model.onnx`, `${REPO}${name}/1/model.onnx`);
    writeFileSync(`${REPO}${name}/config.yaml`, name === 'mid_full' ? CONFIG_FULL : CONFIG);
  }
}

interface CeilingPoint {
  batch: number;
  rate: number;
  cpuUs: number;
}

/** The ceiling of each batch size: the median rate of ROW_ROUNDS runs, and that run's CPU per row. */
async function ceilingOf(model: Model): Promise<CeilingPoint[]> {
  const runs: CeilingPoint[][] = [];
  for (let round = 0; round < ROW_ROUNDS; round++) runs.push(await ceilingRun(model));
  return runs[0]!.map((_, i) => {
    const points = runs.map((run) => run[i]!).sort((x, y) => x.rate - y.rate);
    return points[Math.floor(points.length / 2)]!;
  });
}

const ceilingRun = (model: Model) =>
  runPinned<CeilingPoint[]>(SERVER_CORE, [
    '--import',
    'tsx',
    'bench/lib/ort-ceiling.ts',
    JSON.stringify({
      path: `${REPO}${model}/1/model.onnx`,
      features: MODELS[model],
      batches: CEILING_BATCHES[model],
      seconds: CEILING_SECONDS,
    }),
  ]);

/**
 * ORT's CPU per row at a (fractional) average batch: a run costs a fixed part plus a part per row,
 * so the cost per row is linear in 1/batch between the measured batch sizes.
 */
export function ortCpuPerRow(points: readonly CeilingPoint[], batch: number): number {
  const sorted = [...points].sort((a, b) => a.batch - b.batch);
  if (batch <= sorted[0]!.batch) return sorted[0]!.cpuUs;
  for (let i = 1; i < sorted.length; i++) {
    const lo = sorted[i - 1]!;
    const hi = sorted[i]!;
    if (batch <= hi.batch) {
      const t = (1 / lo.batch - 1 / batch) / (1 / lo.batch - 1 / hi.batch);
      return lo.cpuUs + t * (hi.cpuUs - lo.cpuUs);
    }
  }
  return sorted.at(-1)!.cpuUs;
}

interface Measured extends Load {
  batch: number;
  serverUs: number;
  mainUs: number;
  othersUs: number;
  /** The busiest thread besides the main one: ONNX Runtime's worker thread where the model has one. */
  busiestUs: number;
  /** The load generator's own CPU per request, and the share of its core that kept busy. */
  loadUs: number;
  loadBusy: number;
}

/** A load from the load generator's core against a pinned server, with the server's CPU per request. */
async function measure(
  server: { pid: number; port: number; metricsPort?: number },
  kind: Kind,
  model: string,
  features: number,
  concurrency: number,
  seconds = SECONDS,
): Promise<Measured> {
  const options: LoadOptions = {
    kind,
    port: server.port,
    model,
    features,
    concurrency,
    seconds,
    core: LOAD_CORE,
    serverPid: server.pid,
  };
  const result =
    server.metricsPort === undefined
      ? { ...(await runLoad(options)), batch: 1 }
      : await runServedLoad(`http://127.0.0.1:${server.metricsPort}/metrics`, options);
  const per = (ms: number | undefined) => ((ms ?? Number.NaN) * 1000) / result.requests;
  return {
    ...result,
    serverUs: per((result.serverMainMs ?? Number.NaN) + (result.serverOthersMs ?? Number.NaN)),
    mainUs: per(result.serverMainMs),
    othersUs: per(result.serverOthersMs),
    busiestUs: per(result.serverBusiestOtherMs),
    loadUs: per(result.cpuMs),
    loadBusy: result.cpuMs / 1000 / (result.requests / result.rps),
  };
}

type FerryServer = PinnedServer<{ httpPort: number; grpcPort: number }>;

/** ferry serve (bench/lib/serve-main.mjs) on the server core; `module` another build of @ferry/serve. */
function startFerry(
  module?: string,
  profileDir?: string,
  nodeArgs: readonly string[] = [],
): Promise<FerryServer> {
  return startPinned(SERVER_CORE, [
    ...nodeArgs,
    ...(profileDir
      ? ['--cpu-prof', '--cpu-prof-interval', String(PROFILE_INTERVAL_US), '--cpu-prof-dir', profileDir]
      : []),
    'bench/lib/serve-main.mjs',
    REPO,
    ...(module ? [module] : []),
  ]);
}

const ferryLoad = (server: FerryServer, kind: Kind, model: Served, concurrency: number, seconds = SECONDS) =>
  measure(
    {
      pid: server.pid,
      port: kind === 'grpc' ? server.ready.grpcPort : server.ready.httpPort,
      metricsPort: server.ready.httpPort,
    },
    kind,
    model,
    MODELS[SERVED[model]],
    concurrency,
    seconds,
  );

/** Each row's load once, unmeasured: the JIT compiles ferry's hot paths before the measures. */
async function warmUp(server: FerryServer, rows: readonly [Served, number, Kind][]): Promise<void> {
  for (const [model, concurrency, kind] of rows)
    await ferryLoad(server, kind, model, concurrency, WARMUP_SECONDS);
}

/** A reference server (naive or floor) on the server core, measured under one load. */
async function reference(kind: Reference, model: Model, concurrency: number): Promise<Measured> {
  const arg = kind === 'naive' ? `${REPO}${model}/1/model.onnx` : String(MODELS[model]);
  const server = await startPinned<{ port: number }>(SERVER_CORE, [
    '--import',
    'tsx',
    'bench/lib/reference-server-main.ts',
    kind,
    arg,
  ]);
  try {
    return await measure(
      { pid: server.pid, port: server.ready.port },
      kind === 'naive' ? 'json' : kind === 'floor' ? 'binary' : 'grpc',
      model,
      MODELS[model],
      concurrency,
    );
  } finally {
    await server.stop();
  }
}

/**
 * One profiled run: a fresh server under --cpu-prof, one load, then the main thread's profile
 * summarised over the load's seconds only (model loading and warm-up left out).
 */
async function profiled(model: Served, concurrency: number, kind: Kind) {
  const keep = process.env.SERVE_PINNED_PROFILE_DIR;
  const dir = mkdtempSync(join(keep ?? tmpdir(), 'ferry-serve-prof-'));
  try {
    const server = await startFerry(undefined, dir);
    let result: Measured;
    let from = 0n;
    try {
      await warmUp(server, [[model, concurrency, kind]]);
      from = process.hrtime.bigint();
      result = await ferryLoad(server, kind, model, concurrency);
    } finally {
      await server.stop();
    }
    const to = process.hrtime.bigint();
    // node names a thread's profile CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main one
    const main = readdirSync(dir).find((name) => name.split('.')[4] === '0');
    if (!main) throw new Error(`no main-thread profile in ${dir}`);
    const profile = JSON.parse(readFileSync(join(dir, main), 'utf8')) as CpuProfile & { startTime: number };
    // profile times and process.hrtime are both CLOCK_MONOTONIC (µs and ns)
    const summary = summariseProfile(profile, { fromUs: Number(from / 1000n), toUs: Number(to / 1000n) });
    return { result, summary };
  } finally {
    if (keep) console.log(`profiles of ${model}:${concurrency}:${kind} kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

const CELLS = process.env.SERVE_PINNED_CELLS?.split(',').map((cell) => cell.trim());
const AB = process.env.SERVE_PINNED_AB;
const ROUNDS = Number(process.env.SERVE_PINNED_ROUNDS ?? 3);
/** Measured passes over ferry's rows in a full run (SERVE_PINNED_ROW_ROUNDS); each row shows its median. */
const ROW_ROUNDS = Number(process.env.SERVE_PINNED_ROW_ROUNDS ?? 3);

/** Node options for one side of an A/B run (e.g. SERVE_PINNED_B_NODE_ARGS=--max-semi-space-size=32). */
const nodeArgsOf = (name: string) => process.env[name]?.split(' ').filter(Boolean) ?? [];

/** SERVE_PINNED_AB: each selected row against both builds in turn, ABAB, medians printed. */
async function abRun(rows: readonly [Served, number, Kind][]): Promise<void> {
  const a = await startFerry(process.env.SERVE_PINNED_A, undefined, nodeArgsOf('SERVE_PINNED_A_NODE_ARGS'));
  let b: FerryServer | undefined;
  try {
    b = await startFerry(AB, undefined, nodeArgsOf('SERVE_PINNED_B_NODE_ARGS'));
    await warmUp(a, rows);
    await warmUp(b, rows);
    for (const [model, concurrency, kind] of rows) {
      const runs: Record<'A' | 'B', Measured[]> = { A: [], B: [] };
      for (let round = 0; round < ROUNDS; round++) {
        runs.A.push(await ferryLoad(a, kind, model, concurrency));
        runs.B.push(await ferryLoad(b, kind, model, concurrency));
      }
      const median = (
        list: Measured[],
        key:
          | 'rps'
          | 'p50'
          | 'p90'
          | 'p95'
          | 'p99'
          | 'p999'
          | 'max'
          | 'serverUs'
          | 'batch'
          | 'mainUs'
          | 'busiestUs'
          | 'othersUs'
          | 'loadUs',
      ) => {
        const values = list.map((m) => m[key] ?? Number.NaN).sort((x, y) => x - y);
        return values[Math.floor(values.length / 2)]!;
      };
      for (const side of ['A', 'B'] as const)
        console.log(
          `${side} ${model}:${concurrency}:${kind} req/s ${f0(median(runs[side], 'rps'))} p99 ${f1(median(runs[side], 'p99'))} batch ${median(runs[side], 'batch').toFixed(1)} server µs/req ${f0(median(runs[side], 'serverUs'))} (main ${f0(median(runs[side], 'mainUs'))} / busiest ${f0(median(runs[side], 'busiestUs'))} / rest ${f0(median(runs[side], 'othersUs'))}) load gen µs/req ${f0(median(runs[side], 'loadUs'))} p50 ${f1(median(runs[side], 'p50'))} tail p90/p95/p99.9/max ${(['p90', 'p95', 'p999', 'max'] as const).map((q) => f1(median(runs[side], q))).join(' / ')}  (req/s each: ${runs[side].map((m) => f0(m.rps)).join(', ')})`,
        );
    }
  } finally {
    await Promise.all([a.stop(), b?.stop()]);
  }
}

export async function run(): Promise<void> {
  prepareRepo();
  const selected = CELLS ? FERRY_ROWS.filter((row) => CELLS.includes(row.join(':'))) : FERRY_ROWS;
  if (AB) return abRun(selected);
  if (CELLS && process.env.SERVE_PINNED_PROFILE) {
    for (const [model, concurrency, kind] of selected) {
      const { result, summary } = await profiled(model, concurrency, kind);
      console.log(
        `${model}:${concurrency}:${kind} ${f0(result.rps)} req/s, main thread ${f0(result.mainUs)} µs/req:`,
        summary.map((s) => `${s.category} ${(100 * s.share).toFixed(0)}%`).join(', '),
      );
    }
    return;
  }
  const loadBefore = loadavg()[0]!.toFixed(1);

  const ceilings = {} as Record<Model, CeilingPoint[]>;
  for (const model of Object.keys(MODELS) as Model[]) {
    ceilings[model] = await ceilingOf(model);
    console.log(
      `ceiling ${model}:`,
      ceilings[model].map((p) => `batch ${p.batch} ${f0(p.rate)} rows/s ${f0(p.cpuUs)} µs/row`).join('; '),
    );
  }

  const rows: (string | number)[][] = [];
  const results = new Map<string, Measured>();
  const row = (name: string, model: Served, concurrency: number, m: Measured, served: boolean) => {
    const ort = served ? ortCpuPerRow(ceilings[SERVED[model]], m.batch) : Number.NaN;
    rows.push([
      name,
      model,
      concurrency,
      f0(m.rps),
      f1(m.p50),
      f1(m.p99),
      served ? m.batch.toFixed(1) : '-',
      m.errors,
      f0(m.serverUs),
      `${f0(m.mainUs)} / ${f0(m.busiestUs)} / ${f0(m.othersUs - m.busiestUs)}`,
      served ? f0(ort) : '-',
      served ? f0(m.serverUs - ort) : '-',
      `${f0(m.loadUs)} (${f0(100 * m.loadBusy)}%)`,
    ]);
    console.log(rows.at(-1)!.join(' | '));
  };

  const ferry =
    selected.length > 0
      ? await startFerry(undefined, undefined, nodeArgsOf('SERVE_PINNED_A_NODE_ARGS'))
      : undefined;
  try {
    if (ferry) await warmUp(ferry, selected);
    // ROW_ROUNDS passes over every row, then each row's median round by req/s, whole: one round's
    // ONNX Runtime thread varied by ~10% per row between runs on a quiet machine (cache, neighbours)
    const rounds = new Map<string, Measured[]>();
    for (let round = 0; round < ROW_ROUNDS; round++)
      for (const [model, concurrency, kind] of selected) {
        const key = `${model}:${concurrency}:${kind}`;
        rounds.set(key, [...(rounds.get(key) ?? []), await ferryLoad(ferry!, kind, model, concurrency)]);
      }
    for (const [model, concurrency, kind] of selected) {
      const measured = rounds.get(`${model}:${concurrency}:${kind}`)!.sort((x, y) => x.rps - y.rps);
      const m = measured[Math.floor(measured.length / 2)]!;
      results.set(`${model}:${concurrency}:${kind}`, m);
      row(`ferry ${LABEL[kind]}${model === 'mid_full' ? ', full batches' : ''}`, model, concurrency, m, true);
    }
  } finally {
    await ferry?.stop();
  }
  for (const model of Object.keys(MODELS) as Model[])
    for (const kind of Object.keys(REFERENCE_LABEL) as Reference[]) {
      if (CELLS && !CELLS.includes(`${model}:64:${kind}`)) continue;
      const measured = await reference(kind, model, 64);
      results.set(`${model}:64:${kind}`, measured);
      row(REFERENCE_LABEL[kind], model, 64, measured, false);
    }
  if (CELLS) return;

  const profiles: { name: string; mainUs: number; summary: ReturnType<typeof summariseProfile> }[] = [];
  for (const [model, concurrency, kind] of PROFILED) {
    const { result, summary } = await profiled(model, concurrency, kind);
    profiles.push({ name: `${model} ${LABEL[kind]} c=${concurrency}`, mainUs: result.mainUs, summary });
    console.log(
      profiles.at(-1)!.name,
      summary.map((s) => `${s.category} ${(100 * s.share).toFixed(0)}%`).join(', '),
    );
  }

  const ceilingRows = (Object.keys(MODELS) as Model[]).map((model) => [
    model,
    ...ceilings[model].map((p) => `${f0(p.rate)} (${f0(p.cpuUs)} µs)`),
  ]);
  const goals = goalLines(ceilings.mid, results);
  const physics = ceilingArithmetic(ceilings.mid, results);
  console.log(goals.join('\n'));
  writeSection(
    'serve-pinned',
    'ferry serve pinned: load generator on one core, server on the other',
    'npm run bench -- serve-pinned',
    body({ loadBefore, ceilingRows, rows, goals, physics, profiles, results }),
  );
}

function goalLines(ceiling: readonly CeilingPoint[], results: ReadonlyMap<string, Measured>): string[] {
  const top = Math.max(...ceiling.map((p) => p.rate));
  const naive = results.get('mid:64:naive')!;
  const floor = results.get('mid:64:floor')!;
  const own = (m: Measured) => m.serverUs - ortCpuPerRow(ceiling, m.batch);
  const mark = (met: boolean) => (met ? 'met' : '**not met**');
  // Two ceilings: the best batch measured, and batch 64, the largest 64 one-row clients can form.
  const at64 = ceiling.find((p) => p.batch === 64)!.rate;
  const share = (m: Measured) => m.rps / top;
  const share64 = (m: Measured) => m.rps / at64;
  const against = (m: Measured, goal: number) =>
    `${share64(m).toFixed(2)}x of batch 64's ${f0(at64)} rows/s, ${share(m).toFixed(2)}x of the best (${f0(top)}); ${f0(m.rps)} rows/s | ${mark(share64(m) >= goal)} (batch 64) / ${mark(share(m) >= goal)} (best)`;
  const lines: string[] = [];
  for (const [model, config] of [
    ['mid', 'max_queue_delay_us 0'],
    ['mid_full', 'full batches'],
  ] as const) {
    const binary = results.get(`${model}:64:binary`)!;
    const grpc = results.get(`${model}:64:grpc`)!;
    lines.push(
      `| binary REST >= 0.75x the one-core ceiling | ${config} | ${against(binary, 0.75)} |`,
      `| gRPC >= 0.6x the one-core ceiling | ${config} | ${against(grpc, 0.6)} |`,
      `| ferry's own CPU per request <= 2x the floor's (${f0(floor.serverUs)} µs) | ${config} | binary REST ${f0(own(binary))} µs (${(own(binary) / floor.serverUs).toFixed(1)}x), gRPC ${f0(own(grpc))} µs (${(own(grpc) / floor.serverUs).toFixed(1)}x) | ${mark(own(binary) <= 2 * floor.serverUs)} / ${mark(own(grpc) <= 2 * floor.serverUs)} |`,
      `| p99 <= 3x p50 | ${config} | binary REST ${f1(binary.p99)} / ${f1(binary.p50)} ms, gRPC ${f1(grpc.p99)} / ${f1(grpc.p50)} ms | ${mark(binary.p99 <= 3 * binary.p50)} / ${mark(grpc.p99 <= 3 * grpc.p50)} |`,
      `| p99 below the naive server's (${f1(naive.p99)} ms) | ${config} | binary REST ${f1(binary.p99)} ms, gRPC ${f1(grpc.p99)} ms | ${mark(binary.p99 < naive.p99)} / ${mark(grpc.p99 < naive.p99)} |`,
    );
  }
  return lines;
}

/**
 * What the throughput goals ask of one core, from this run's numbers: the ceiling's rate leaves
 * 1/rate of CPU per request; ONNX Runtime needs its CPU per row at the batch 64 clients can form
 * at most, and the bare node:http (node:http2 for gRPC) floor its CPU per request, before ferry
 * does anything.
 */
function ceilingArithmetic(ceiling: readonly CeilingPoint[], results: ReadonlyMap<string, Measured>): string {
  const top = Math.max(...ceiling.map((p) => p.rate));
  const at64 = ceiling.find((p) => p.batch === 64)!;
  const floor = results.get('mid:64:floor')!.serverUs;
  const grpcFloor = results.get('mid:64:grpc-floor')!.serverUs;
  const line = (goal: string, share: number, rate: number, floor: number, transport: string) => {
    const budget = 1e6 / (share * rate);
    const left = budget - at64.cpuUs - floor;
    return `- ${goal}: ${f0(share * rate)} req/s leaves ${f0(budget)} µs of the core per request. ONNX Runtime needs ${f0(at64.cpuUs)} µs per row at batch 64 (the most 64 clients can form) and the bare ${transport} exchange ${f0(floor)} µs: ${left > 0 ? `${f0(left)} µs remain for everything ferry adds (parsing, validation, batching, hand-off, metrics, GC)` : `${f0(-left)} µs over before ferry does anything, so the goal cannot be met on this core at concurrency 64`}.`;
  };
  return [
    `What the throughput goals leave per request on one core (mid MLP, concurrency 64, this run's numbers), against the batch-64 ceiling (${f0(at64.rate)} rows/s) and the best (${f0(top)} rows/s):`,
    '',
    line('binary REST at 0.75x of batch 64', 0.75, at64.rate, floor, 'node:http'),
    line('gRPC at 0.6x of batch 64', 0.6, at64.rate, grpcFloor, 'node:http2 (gRPC)'),
    line('binary REST at 0.75x of the best', 0.75, top, floor, 'node:http'),
    line('gRPC at 0.6x of the best', 0.6, top, grpcFloor, 'node:http2 (gRPC)'),
  ].join('\n');
}

function body(m: {
  loadBefore: string;
  ceilingRows: (string | number)[][];
  rows: (string | number)[][];
  goals: string[];
  physics: string;
  profiles: { name: string; mainUs: number; summary: ReturnType<typeof summariseProfile> }[];
  results: ReadonlyMap<string, Measured>;
}): string {
  const categories = [...new Set(m.profiles.flatMap((p) => p.summary.map((s) => s.category)))];
  const profileRows = categories.map((category) => [
    category,
    ...m.profiles.map((p) => {
      const s = p.summary.find((x) => x.category === category);
      return s ? `${(100 * s.share).toFixed(0)}% (${f0(s.share * p.mainUs)})` : '-';
    }),
  ]);
  const json = m.results.get('small:64:json');
  const binary = m.results.get('small:64:binary');
  const gap =
    json && binary
      ? `Small MLP at concurrency 64: JSON REST ${f0(json.rps)} req/s and ${f0(json.serverUs)} µs of server CPU per request, binary REST ${f0(binary.rps)} and ${f0(binary.serverUs)} µs: JSON at ${(json.rps / binary.rps).toFixed(2)}x binary's rate.`
      : '';
  return `The load generator (bench/lib/serve-load.ts, N closed-loop clients, ${SECONDS} s per row after 0.5 s warmup)
runs on core ${LOAD_CORE} and every server on core ${SERVER_CORE}, each started under \`taskset -c\` (util-linux: the
kernel's sched_setaffinity before the program starts, inherited by every thread it creates: event
loop, worker threads, V8's GC and compiler threads, ONNX Runtime's). ferry serve
(bench/lib/serve-main.mjs: \`startServer\` as \`ferry serve REPO --grpc-port 0 --log-level warn\` runs it)
serves the models with \`max_batch_size: ${MAX_BATCH}\`, \`max_queue_delay_us: 0\`, \`intra_op_threads: 1\`
and placement auto (the mid MLP in a worker thread; the small one on the event loop where auto's timing
run at load, batch 128, takes under 200 µs, as on a quiet machine; on a loaded one it may not, and it runs
in a worker: the ORT column, ~0 for the event loop, shows which);
"full batches" is the mid MLP with \`preferred_batch_sizes: [64]\` and \`max_queue_delay_us: 20000\`.
Each row's load runs once for ${WARMUP_SECONDS} s unmeasured first, so the JIT has compiled the hot paths;
then ${ROW_ROUNDS} measured passes run over all of ferry's rows in turn, and each row shows its median pass
by req/s (all of that pass's figures), as one pass's ONNX Runtime thread varied by ~10% between runs.

Server CPU is the server process's utime + stime from /proc/PID/stat over the measured seconds
(read by the load generator at their edges), per request. "main / ORT / rest" splits it: the main
thread (event loop: HTTP, parsing, validation, batching, answers), the busiest other thread (ONNX
Runtime's worker thread for the mid MLP; for the small MLP, which computes on the main thread, a GC
helper) and all other threads (V8's GC and compiler helpers). ORT µs/row is the ceiling's CPU per
row at the served average batch, interpolated in 1/batch; ferry's own = server CPU less that.

The last column is the load generator's own CPU per request (process.cpuUsage, same seconds, its core)
and, in brackets, how busy that kept its core: shown so a reader can see it is not what limits a row
(its clients are closed loops, so that cost also sits in each loop: after a batch's answers the next
requests wait for it). Both clients write prebuilt requests on raw sockets (HTTP/1.1; HTTP/2 frames for
gRPC, bench/lib/grpc-load-client.ts, where node:http2's client had cost 118-189 µs a call).

The machine was shared with other work (up to 8 engineers building and testing on the same 2
cores): 1-minute load average ${m.loadBefore} before the run, ${loadavg()[0]!.toFixed(1)} after it. Pinning does not keep
their processes off the two cores; on a shared machine run the suite in its own autogroup at
priority, \`setsid bash -c 'echo -20 > /proc/$$/autogroup; exec npm run bench -- serve-pinned'\`
(as root; plain \`nice\` does not reach across autogroups), as this run was.

Ceiling: onnxruntime-node in one process pinned to core ${SERVER_CORE}, one intra-op thread, ferry's session
options, runs back to back (bench/lib/ort-ceiling.ts), ${CEILING_SECONDS} s per batch size, ${ROW_ROUNDS} times, the median
by rows/s; rows/s and, in brackets, CPU per row:

${markdownTable(
  ['model', ...CEILING_BATCHES.mid.map((b) => `batch ${b}`)],
  m.ceilingRows.filter((r) => r[0] === 'mid'),
)}

${markdownTable(
  ['model', ...CEILING_BATCHES.small.map((b) => `batch ${b}`)],
  m.ceilingRows.filter((r) => r[0] === 'small'),
)}

Served (req/s = rows/s; latency in ms; avg batch from ferry's /metrics; CPU in µs per request):

${markdownTable(['server', 'model', 'concurrency', 'req/s', 'p50 ms', 'p99 ms', 'avg batch', 'errors', 'server CPU', 'main / ORT / rest', 'ORT µs/row', "ferry's own", 'load gen µs/req (core busy)'], m.rows)}

Goals (mid MLP, concurrency 64; throughput against two ceilings: batch 64, the largest batch 64 clients sending one row each can form, and the best measured, at batch ${MAX_BATCH}):

| goal | config | measured | |
| --- | --- | --- | --- |
${m.goals.join('\n')}

${m.physics}

${gap}

What was tried in packages/serve (A/B, same machine, same minutes; server CPU per request, before -> after):

${TRIED}

Where the main thread's CPU goes (\`node --cpu-prof\` at a ${PROFILE_INTERVAL_US} µs interval of a fresh server under
the same load after its warm-up, the samples of the measured seconds only, each sample counted once,
summed by category by bench/lib/cpu-profile-summary.ts; share of the main thread's samples and, in
brackets, µs per request of that run's main-thread CPU; profiling slows the server a little):

${markdownTable(['category', ...m.profiles.map((p) => p.name)], profileRows)}`;
}
