/**
 * torchscript: a mid-size MLP (1024 -> 4096 -> 1024, traced) run by @ferry/torchscript's libtorch
 * addon in process (forward on libuv's pool, awaited one at a time) vs Debian's python3-torch
 * running the same archive in process (the ceiling: the same libtorch with no async hop), at
 * batch 1/32/128, same intra-op thread count. The addon's output is checked against torch's first.
 *
 * The same model served by ferry serve as TorchScript and as ONNX at concurrency 1/16/64 is
 * bench/suites/torchscript-serve.ts (run by `npm run bench -- torchscript` too).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ScriptModule, setIntraOpThreads, torchVersion } from '@ferry/torchscript';
import { markdownTable, writeSection } from '../lib/report.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const data = `${root}bench/.data`;
const model = `${data}/mlp-1024-4096.pt`;
const PYTHON = '/usr/bin/python3';
const THREADS = 1;
/** forwards per timed run, by batch: each run takes roughly a second on one core. */
const PLAN: readonly (readonly [number, number])[] = [
  [1, 300],
  [32, 40],
  [128, 12],
];

function python(): Record<string, number> {
  const out = execFileSync(
    PYTHON,
    [`${root}bench/torchscript_python.py`, model, String(THREADS), ...PLAN.map(([b, n]) => `${n}:${b}`)],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as Record<string, number>;
}

async function secondsPerForward(module: ScriptModule, batch: number, iterations: number): Promise<number> {
  const x = new Float32Array(batch * 1024).map(() => Math.random() - 0.5);
  const input = [{ dtype: 'F32' as const, shape: [batch, 1024], data: new Uint8Array(x.buffer) }];
  for (let i = 0; i < 5; i++) await module.forward(input);
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await module.forward(input);
    times.push(Number(process.hrtime.bigint() - start) / 1e9 / iterations);
  }
  return times.sort((a, b) => a - b)[1]!;
}

export async function run(): Promise<void> {
  mkdirSync(data, { recursive: true });
  if (!existsSync(model))
    console.log('torchscript: tracing the MLP with python3-torch (cached in bench/.data/)');
  const before = python(); // makes the model on first run
  setIntraOpThreads(THREADS);
  const module = await ScriptModule.load(model);
  try {
    const x = readFileSync(`${model}.x`);
    const want = new Float32Array(new Uint8Array(readFileSync(`${model}.y`)).buffer);
    const [out] = await module.forward([{ dtype: 'F32', shape: [128, 1024], data: x }]);
    const got = new Float32Array(new Uint8Array(out!.data).buffer);
    const maxDiff = got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
    if (maxDiff > 1e-5) throw new Error(`torchscript: addon output differs from torch by ${maxDiff}`);

    const ferryTimes = new Map<number, number>();
    for (const [batch, iterations] of PLAN)
      ferryTimes.set(batch, await secondsPerForward(module, batch, iterations));
    // python runs before and after ferry; the faster of the two is the ceiling (the machine is shared)
    const after = python();
    const rows: (string | number)[][] = [];
    for (const [batch] of PLAN) {
      const ferry = ferryTimes.get(batch)!;
      const torch = Math.min(before[String(batch)]!, after[String(batch)]!);
      rows.push([
        batch,
        (ferry * 1000).toFixed(3),
        (batch / ferry).toFixed(0),
        (torch * 1000).toFixed(3),
        (batch / torch).toFixed(0),
        (torch / ferry).toFixed(2),
      ]);
    }
    const body = [
      'A traced MLP 1024 -> 4096 -> 1024 (F32, 8.4 M parameters) made by `bench/torchscript_python.py`.',
      `ferry: \`ScriptModule.forward\` through the native addon over Debian's libtorch ${torchVersion()}, awaited one`,
      'at a time (each forward hops to a libuv pool thread and back). Ceiling: python3-torch `torch.jit.load`',
      `of the same archive, called in a loop in process. Both eval + inference mode, ${THREADS} intra-op thread;`,
      'median of 3 timed runs after 5 warmup forwards; python is measured before and after ferry and the',
      'faster run counts. The addon output for a fixed batch-128 input matches',
      `torch's to ${maxDiff.toExponential(1)} (max abs difference).`,
      '',
      markdownTable(
        [
          'batch',
          'ferry ms/forward',
          'ferry rows/s',
          'python ms/forward',
          'python rows/s',
          'ferry / ceiling',
        ],
        rows,
      ),
      '',
      'ferry / ceiling is throughput relative to python (1.00 = equal; libtorch does the same work in both).',
    ].join('\n');
    writeSection(
      'torchscript',
      'TorchScript: libtorch addon in process vs python3-torch',
      'npm run bench -- torchscript',
      body,
    );
    console.log(body);
  } finally {
    module.dispose();
  }
}
