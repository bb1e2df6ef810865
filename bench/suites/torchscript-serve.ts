/**
 * torchscript-serve: one MLP (1024 -> 4096 -> 1024, fp32) served by ferry serve twice, side by
 * side in one server: as TorchScript on the libtorch addon and as ONNX on onnxruntime, at
 * concurrency 1/16/64 over binary REST and gRPC (req/s, p50, p99, average batch). Both answer
 * torch's output for the same rows before anything is timed. The models are made by
 * bench/make/torchscript_serve_mlp.py into bench/.data/torchscript-serve (never committed); the load
 * generator is the serve suite's (bench/lib/serve-load.ts, its own process).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { torchscriptAvailable } from '@ferry/torchscript';
import { startServer } from '@ferry/serve';
import { markdownTable, writeSection } from '../lib/report.js';
import { runServedLoad, servedCells } from '../lib/serve-load-run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REPO = fileURLToPath(new URL('../.data/torchscript-serve/', import.meta.url));
const FEATURES = 1024;
const CONCURRENCY = [1, 16, 64];
const SECONDS = Number(process.env.SERVE_BENCH_SECONDS ?? 3);
const MAX_BATCH = 64;
/**
 * Both runtimes get the same intra-op threads and one instance each: by default 1 (as the in-process
 * TorchScript section), leaving the other cores to the server's event loop and the load generator.
 */
const THREADS = Number(process.env.TORCHSCRIPT_SERVE_THREADS ?? 1);
const MODELS = { mid_torchscript: 'TorchScript on libtorch', mid_onnx: 'ONNX on onnxruntime' } as const;

function config(model: keyof typeof MODELS): string {
  const common = [
    `max_batch_size: ${MAX_BATCH}`,
    'dynamic_batching: { max_queue_delay_us: 0, max_queue_size: 4096 }',
    `instances: { count: 1, intra_op_threads: ${THREADS} }`,
  ];
  if (model === 'mid_onnx') return `${common.join('\n')}\n`;
  return `${[
    'backend: torchscript',
    ...common,
    'inputs:',
    `  - { name: x, datatype: FP32, shape: [${FEATURES}] }`,
    'outputs:',
    `  - { name: y, datatype: FP32, shape: [${FEATURES}] }`,
  ].join('\n')}\n`;
}

/** Both servers' answers for torch's 4 rows, within 1e-4 (libtorch and onnxruntime sum in different orders). */
async function check(port: number): Promise<void> {
  const x = new Float32Array(new Uint8Array(readFileSync(`${REPO}x.bin`)).buffer);
  const y = new Float32Array(new Uint8Array(readFileSync(`${REPO}y.bin`)).buffer);
  for (const model of Object.keys(MODELS)) {
    const response = await fetch(`http://127.0.0.1:${port}/v2/models/${model}/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [4, FEATURES], data: [...x] }] }),
    });
    const json = (await response.json()) as { outputs?: { data: number[] }[]; error?: string };
    const got = json.outputs?.[0]?.data;
    if (!got) throw new Error(`${model}: ${json.error}`);
    const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!) / (1 + Math.abs(y[i]!))), 0);
    if (got.length !== y.length || worst > 1e-4)
      throw new Error(`${model} does not answer what torch does (worst relative difference ${worst})`);
    console.log(
      `torchscript-serve: ${model} matches torch (worst relative difference ${worst.toExponential(1)})`,
    );
  }
}

export async function run(): Promise<void> {
  if (!torchscriptAvailable()) {
    console.log('torchscript-serve: skipped (the libtorch addon is not built: npm run build:torchscript)');
    return;
  }
  if (!existsSync(`${REPO}mid_torchscript/1/model.pt`))
    execFileSync('/usr/bin/python3', ['bench/make/torchscript_serve_mlp.py', REPO], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  for (const model of Object.keys(MODELS) as (keyof typeof MODELS)[])
    writeFileSync(`${REPO}${model}/config.yaml`, config(model));

  const loadBefore = loadavg()[0]!.toFixed(1);
  const rows: (string | number)[][] = [];
  const server = await startServer({ path: REPO, httpPort: 0, grpcPort: 0, logLevel: 'warn' });
  try {
    await check(server.httpPort!);
    // the two runtimes back to back at each point, so a change in machine load shifts both
    for (const concurrency of CONCURRENCY)
      for (const kind of ['binary', 'grpc'] as const)
        for (const [model, label] of Object.entries(MODELS)) {
          const result = await runServedLoad(`http://127.0.0.1:${server.httpPort}/metrics`, {
            kind,
            port: kind === 'grpc' ? server.grpcPort! : server.httpPort!,
            model,
            features: FEATURES,
            concurrency,
            seconds: SECONDS,
          });
          rows.push([label, kind === 'grpc' ? 'gRPC' : 'binary REST', concurrency, ...servedCells(result)]);
          console.log(rows.at(-1)!.join(' | '));
        }
  } finally {
    await server.close();
  }

  writeSection(
    'torchscript-serve',
    'ferry serve: the same MLP as TorchScript (libtorch) and as ONNX (onnxruntime)',
    'npm run bench -- torchscript-serve',
    `Model: one MLP 1024->4096->1024 (fp32, torch 1.13, same weights), traced to TorchScript and exported to
ONNX by bench/make/torchscript_serve_mlp.py; both answer torch's output (checked first, within 1e-4).
One server serves both: \`max_batch_size: ${MAX_BATCH}\`, \`max_queue_delay_us: 0\`, one instance each,
\`intra_op_threads: ${THREADS}\` each (\`TORCHSCRIPT_SERVE_THREADS\`; libtorch's is process-wide). One request = one row. Load generator:
bench/lib/serve-load.ts in a second process, N clients each sending its next request when the last is
answered, ${SECONDS} s per row after 0.5 s warmup. Everything shares this machine's cores, and the machine is
shared with other work: 1-minute load average ${loadBefore} before the run, ${loadavg()[0]!.toFixed(1)} after it.
In-process libtorch (the ceiling, no server) is in the TorchScript section above.

${markdownTable(['runtime', 'protocol', 'concurrency', 'req/s', 'p50 ms', 'p99 ms', 'avg batch', 'errors'], rows)}`,
  );
}
