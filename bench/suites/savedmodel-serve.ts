/**
 * savedmodel-serve: SavedModels served by ferry serve through the convert-at-load backend.
 * - startup: a server's load of the repository with an empty conversion cache (converting every
 *   signature) and again with the cache warm (digesting the files, reading the ONNX back);
 * - served throughput of the converted models at concurrency 1/16/64 over binary REST and gRPC:
 *   keras_cnn (fixtures/savedmodel-onnx, a Keras CNN on 8x8x3 images) and TF Serving's
 *   half_plus_two (TF1 export). The load generator is the serve suite's (bench/lib/serve-load.ts).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '@ferry/serve';
import { markdownTable, writeSection } from '../lib/report.js';
import { runServedLoad, servedCells } from '../lib/serve-load-run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHARED = join(ROOT, '../shared/fixtures/savedmodel');
const CONCURRENCY = [1, 16, 64];
const SECONDS = Number(process.env.SERVE_BENCH_SECONDS ?? 3);
const MODELS = {
  keras_cnn: {
    input: 'image',
    rowShape: [8, 8, 3],
    source: join(ROOT, 'fixtures/savedmodel-onnx/keras_cnn'),
  },
  half_plus_two: {
    input: 'x',
    rowShape: [1],
    source: join(SHARED, 'saved_model_half_plus_two_cpu/00000123'),
  },
} as const;

function makeRepo(): string {
  const repo = mkdtempSync(join(tmpdir(), 'ferry-bench-sm-'));
  for (const [name, { source }] of Object.entries(MODELS)) {
    const dir = join(repo, name, '1');
    mkdirSync(dir, { recursive: true });
    for (const entry of readdirSync(source)) symlinkSync(join(source, entry), join(dir, entry));
    writeFileSync(
      join(repo, name, 'config.yaml'),
      'max_batch_size: 64\ndynamic_batching: { max_queue_delay_us: 0, max_queue_size: 4096 }\n',
    );
  }
  return repo;
}

async function startupSeconds(repo: string, cacheDir: string): Promise<number> {
  const started = performance.now();
  const server = await startServer({ path: repo, httpPort: 0, grpcPort: null, cacheDir, logLevel: 'error' });
  const seconds = (performance.now() - started) / 1000;
  await server.close();
  return seconds;
}

const f2 = (n: number) => n.toFixed(2);

export async function run(): Promise<void> {
  const repo = makeRepo();
  const cacheDir = mkdtempSync(join(tmpdir(), 'ferry-bench-sm-cache-'));
  const loadBefore = loadavg()[0]!.toFixed(1);
  const rows: (string | number)[][] = [];
  let cold: number;
  let warm: number;
  try {
    cold = await startupSeconds(repo, cacheDir);
    const warmRuns = [];
    for (let i = 0; i < 3; i++) warmRuns.push(await startupSeconds(repo, cacheDir));
    warm = warmRuns.sort((a, b) => a - b)[1]!;
    console.log(`savedmodel-serve: startup ${f2(cold)} s cold cache, ${f2(warm)} s warm`);

    const server = await startServer({ path: repo, httpPort: 0, grpcPort: 0, cacheDir, logLevel: 'warn' });
    try {
      for (const [model, { input, rowShape }] of Object.entries(MODELS))
        for (const concurrency of CONCURRENCY)
          for (const kind of ['binary', 'grpc'] as const) {
            const result = await runServedLoad(`http://127.0.0.1:${server.httpPort}/metrics`, {
              kind,
              port: kind === 'grpc' ? server.grpcPort! : server.httpPort!,
              model,
              features: rowShape.reduce((a, b) => a * b, 1),
              input,
              rowShape,
              concurrency,
              seconds: SECONDS,
            });
            rows.push([model, kind === 'grpc' ? 'gRPC' : 'binary REST', concurrency, ...servedCells(result)]);
            console.log(rows.at(-1)!.join(' | '));
          }
    } finally {
      await server.close();
    }
  } finally {
    rmSync(repo, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  }

  writeSection(
    'savedmodel-serve',
    'ferry serve: SavedModels converted to ONNX at load',
    'npm run bench -- savedmodel-serve',
    `Repository: keras_cnn (fixtures/savedmodel-onnx, Keras 3 CNN, input image [-1, 8, 8, 3]) and TF Serving's
half_plus_two TF1 export (5 signatures: serving_default and regress_x2_to_y3 convert; the three
tf.Example string signatures are skipped with their reason). Startup = \`startServer\` until ready (list,
convert or read from cache, load into onnxruntime, warm up): cold cache ${f2(cold)} s, warm cache ${f2(warm)} s
(median of 3). Served: \`max_batch_size: 64\`, \`max_queue_delay_us: 0\`, one instance, one request = one row;
load generator bench/lib/serve-load.ts in a second process, ${SECONDS} s per row after 0.5 s warmup. The
machine is shared: 1-minute load average ${loadBefore} before the run, ${loadavg()[0]!.toFixed(1)} after it.

${markdownTable(['model', 'protocol', 'concurrency', 'req/s', 'p50 ms', 'p99 ms', 'avg batch', 'errors'], rows)}`,
  );
}
