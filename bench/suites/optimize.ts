/**
 * optimize: for each model, file size, session load time, single-request latency and batch-32
 * throughput in onnxruntime-node, original vs optimized (onnxruntime offline, level extended) vs
 * int8 (dynamic, QOperator and QDQ) vs fp16 (float32 I/O kept), with accuracy against the
 * original on random inputs, or on held-out samples with their labels for the trained MLP.
 * Models: the fixtures of fixtures/optimize/ plus the mid MLP (1024 -> 4096 -> 1024) twice
 * (torch's random initial weights: the harsh test; trained as a 1024-class classifier: the
 * realistic one) and a 512-wide transformer layer, generated into bench/.data/ by
 * bench/make_optimize_models.py (torch 1.13), not committed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  compareArrays,
  convertFileToFloat16,
  type Feed,
  inputSpecs,
  loadForTransform,
  openSession,
  optimizeModel,
  ort,
  quantizeFile,
  randomFeeds,
  readSampleFile,
  runSession,
  sampleFeeds,
  tensorValues,
  toOrtFeeds,
  type quantize,
} from '@ferry/optimize';
import { markdownTable, medianSeconds, writeSection } from '../lib/report.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const data = `${root}bench/.data`;
const LATENCY_RUNS = 50;
const THROUGHPUT_RUNS = 10;
const ROUNDS = 7;
/**
 * One intra-op thread: on this shared 2-core machine a second spinning thread mostly measures
 * the other jobs; one thread gives comparable figures across variants.
 */
const THREADS = 1;
const BATCH = 32;
const ACCURACY_SAMPLES = 256;
/**
 * Accuracy runs go in batches of this many samples: DynamicQuantizeLinear takes one range over
 * the whole batch, so int8 error depends on the batch size.
 */
const ACCURACY_BATCH = 256;

interface Subject {
  readonly name: string;
  readonly path: string;
  /** Size of symbolic dims after the batch (sequence length). */
  readonly seq: number;
  readonly ops: quantize.QuantizableOp[];
  readonly perChannel: boolean;
  /** Whether top-1 agreement means anything (an embedding's argmax does not). */
  readonly classifier: boolean;
  /** Also an int8 QOperator row with per-channel weight scales (the main int8 rows use `perChannel`). */
  readonly perChannelRow?: boolean;
  /** Held-out samples (.npy) and their classes (.npy, int64): accuracy inputs instead of random ones. */
  readonly heldOut?: { readonly inputs: string; readonly labels: string };
  /** Its line in "Goals of issue #10" (the models the issue sets goals for). */
  readonly goal?: string;
}

const SUBJECTS: Subject[] = [
  {
    name: 'mid MLP 1024-4096-1024, trained',
    path: `${data}/trained_mlp.onnx`,
    seq: 0,
    ops: ['MatMul', 'Gemm'],
    perChannel: false,
    classifier: true,
    perChannelRow: true,
    heldOut: { inputs: `${data}/trained_mlp_inputs.npy`, labels: `${data}/trained_mlp_labels.npy` },
    goal: 'the realistic check',
  },
  {
    name: 'mid MLP 1024-4096-1024, random weights',
    path: `${data}/mid_mlp.onnx`,
    seq: 0,
    ops: ['MatMul', 'Gemm'],
    perChannel: false,
    classifier: true,
    perChannelRow: true,
    goal: 'the harsh test',
  },
  {
    name: 'transformer layer d=512 (seq 32)',
    path: `${data}/transformer_512.onnx`,
    seq: 32,
    ops: ['MatMul', 'Gemm'],
    perChannel: false,
    classifier: false,
    goal: 'random weights',
  },
  {
    name: 'fixture mlp 32-128-128-10',
    path: `${root}fixtures/optimize/mlp.onnx`,
    seq: 0,
    ops: ['MatMul', 'Gemm'],
    perChannel: false,
    classifier: true,
  },
  {
    name: 'fixture cnn (per-channel Conv)',
    path: `${root}fixtures/optimize/cnn.onnx`,
    seq: 0,
    ops: ['Conv', 'Gemm'],
    perChannel: true,
    classifier: true,
  },
  {
    name: 'fixture transformer d=64 (seq 32)',
    path: `${root}fixtures/optimize/transformer.onnx`,
    seq: 32,
    ops: ['MatMul'],
    perChannel: false,
    classifier: false,
  },
  {
    name: 'fixture embedding 1000x64 (seq 16)',
    path: `${root}fixtures/optimize/embedding.onnx`,
    seq: 16,
    ops: ['Gather', 'Gemm', 'MatMul'],
    perChannel: false,
    classifier: false,
  },
];

/** Random feeds of `batch` samples with the sequence dims set (the verify helper uses 8). */
function feedsFor(
  model: Awaited<ReturnType<typeof loadForTransform>>['model'],
  batch: number,
  seq: number,
  seed: number,
): Feed {
  const specs = inputSpecs(model).map((s) => ({
    ...s,
    dims: s.dims.map((d, k) => (k > 0 && d === null ? seq : d)),
  }));
  return randomFeeds(specs, batch, seed)[0]!;
}

interface Row {
  variant: string;
  bytes: number;
  loadMs: number;
  latencyMs: number;
  throughput: number;
  maxRel: string;
  top1: string;
  /** Share of labels the variant's top-1 gets right (held-out samples only). */
  accuracy: string;
  maxAbsError: number;
}

interface Accuracy {
  /** Batches of at most ACCURACY_BATCH samples. */
  readonly feeds: Feed[];
  readonly labels?: BigInt64Array;
}

/** The held-out samples in batches, and their labels. */
async function heldOutAccuracy(
  model: Awaited<ReturnType<typeof loadForTransform>>['model'],
  heldOut: NonNullable<Subject['heldOut']>,
): Promise<Accuracy> {
  const [all] = sampleFeeds(inputSpecs(model), await readSampleFile(heldOut.inputs), heldOut.inputs);
  const [name, x] = Object.entries(all!)[0]!;
  const [rows, ...rest] = x.dims as [number, ...number[]];
  const width = rest.reduce((a, b) => a * b, 1);
  const feeds: Feed[] = [];
  for (let at = 0; at < rows; at += ACCURACY_BATCH) {
    const n = Math.min(ACCURACY_BATCH, rows - at);
    feeds.push({ [name]: { ...x, data: x.data.subarray(at * width, (at + n) * width), dims: [n, ...rest] } });
  }
  const [labels] = await readSampleFile(heldOut.labels);
  return { feeds, labels: new BigInt64Array(labels!.bytes.buffer) };
}

/** The first output of every feed, concatenated, with the dims of each run. */
async function firstOutput(session: Awaited<ReturnType<typeof openSession>>, path: string, feeds: Feed[]) {
  const chunks: Float64Array[] = [];
  const dims: number[][] = [];
  for (const feed of feeds) {
    const out = (await runSession(session, toOrtFeeds(feed, session), path))[session.outputNames[0]!]!;
    chunks.push(tensorValues(out));
    dims.push([...out.dims]);
  }
  const values = new Float64Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    values.set(c, at);
    at += c.length;
  }
  return { values, dims };
}

function argmax(values: Float64Array, at: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (values[at + k]! > values[at + best]!) best = k;
  return best;
}

/**
 * Rows whose top two logits (of the original) are closer than `error`: an error that size may
 * swap them, so they bound how much top-1 agreement any variant with that max error can keep.
 */
function closeCalls(values: Float64Array, classes: number, error: number): number {
  let close = 0;
  for (let at = 0; at < values.length; at += classes) {
    let first = Number.NEGATIVE_INFINITY;
    let second = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < classes; k++) {
      const v = values[at + k]!;
      if (v > first) {
        second = first;
        first = v;
      } else if (v > second) second = v;
    }
    if (first - second < error) close++;
  }
  return close / (values.length / classes);
}

/** The best round: interference from other jobs only ever makes a round slower. */
const best = (xs: number[]) => Math.min(...xs);

/**
 * Loads every variant, then times them in interleaved rounds (the best round counts), so a
 * burst of load from other jobs on the shared machine does not land on one variant only.
 */
async function measureAll(
  variants: readonly (readonly [string, string])[],
  feeds: { one: Feed; batch: Feed; accuracy: Accuracy },
  classifier: boolean,
): Promise<{ rows: Row[]; reference: { values: Float64Array; classes: number } }> {
  const loaded = [];
  for (const [variant, path] of variants) {
    const loadStart = process.hrtime.bigint();
    const session = await openSession(path, path, 'load', { threads: THREADS });
    const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;
    const one = toOrtFeeds(feeds.one, session);
    const batch = toOrtFeeds(feeds.batch, session);
    for (let i = 0; i < 5; i++) await runSession(session, one, path);
    await runSession(session, batch, path);
    loaded.push({
      variant,
      path,
      session,
      loadMs,
      one,
      batch,
      latency: [] as number[],
      batchSeconds: [] as number[],
    });
  }
  for (let round = 0; round < ROUNDS; round++)
    for (const v of loaded) {
      v.latency.push(await medianSeconds(LATENCY_RUNS, () => runSession(v.session, v.one, v.path)));
      v.batchSeconds.push(await medianSeconds(THROUGHPUT_RUNS, () => runSession(v.session, v.batch, v.path)));
    }
  const reference = await firstOutput(loaded[0]!.session, loaded[0]!.path, feeds.accuracy.feeds);
  const classes = reference.dims[0]?.length === 2 ? reference.dims[0][1]! : 0;
  const labels = feeds.accuracy.labels;
  const rows: Row[] = [];
  for (const [k, v] of loaded.entries()) {
    let maxRel = '-';
    let top1 = '-';
    let accuracy = '-';
    let maxAbsError = 0;
    const out = k === 0 ? reference : await firstOutput(v.session, v.path, feeds.accuracy.feeds);
    if (k > 0) {
      const c = compareArrays('y', reference.values, out.values, reference.dims);
      maxRel = c.maxRelError.toExponential(1);
      maxAbsError = c.maxAbsError;
      if (classifier && c.top1Agreement !== undefined) top1 = `${(c.top1Agreement * 100).toFixed(1)}%`;
    }
    if (labels && classes > 0) {
      let right = 0;
      for (let r = 0; r < labels.length; r++)
        if (BigInt(argmax(out.values, r * classes, classes)) === labels[r]) right++;
      accuracy = `${((right / labels.length) * 100).toFixed(1)}%`;
    }
    rows.push({
      variant: v.variant,
      bytes: statSync(v.path).size,
      loadMs: v.loadMs,
      latencyMs: best(v.latency) * 1000,
      throughput: BATCH / best(v.batchSeconds),
      maxRel,
      top1,
      accuracy,
      maxAbsError,
    });
  }
  for (const v of loaded) await v.session.release();
  return { rows, reference: { values: reference.values, classes } };
}

const BENCH_MODELS = [
  'mid_mlp.onnx',
  'trained_mlp.onnx',
  'trained_mlp_inputs.npy',
  'trained_mlp_labels.npy',
  'transformer_512.onnx',
];

const percent = (x: string) => Number.parseFloat(x);

export async function run(): Promise<void> {
  mkdirSync(data, { recursive: true });
  if (BENCH_MODELS.some((file) => !existsSync(`${data}/${file}`))) {
    console.log(
      'optimize: writing the mid MLPs (random, trained) and the 512-wide transformer layer with torch (bench/.data/)',
    );
    execFileSync('/usr/bin/python3', [`${root}bench/make_optimize_models.py`, data], { stdio: 'inherit' });
  }
  const loadBefore = loadavg()[0]!;
  const sections: string[] = [];
  const summary: string[] = [];
  const goals: string[] = [];
  for (const s of SUBJECTS) {
    console.log(`optimize: ${s.name}`);
    const base = `${data}/${s.name.split(' ')[0]}-${s.path.split('/').pop()!.replace('.onnx', '')}`;
    const { model } = await loadForTransform(s.path);
    const feeds = {
      one: feedsFor(model, 1, s.seq, 1),
      batch: feedsFor(model, BATCH, s.seq, 2),
      accuracy: s.heldOut
        ? await heldOutAccuracy(model, s.heldOut)
        : { feeds: [feedsFor(model, s.seq >= 32 ? 64 : ACCURACY_SAMPLES, s.seq, 3)] },
    };
    await optimizeModel(s.path, `${base}.opt.onnx`, { level: 'extended' });
    const q = await quantizeFile(s.path, `${base}.int8.onnx`, { ops: s.ops, perChannel: s.perChannel });
    await quantizeFile(s.path, `${base}.int8-qdq.onnx`, {
      ops: s.ops,
      perChannel: s.perChannel,
      format: 'qdq',
    });
    if (s.perChannelRow) await quantizeFile(s.path, `${base}.int8-pc.onnx`, { ops: s.ops, perChannel: true });
    await convertFileToFloat16(s.path, `${base}.fp16.onnx`, { keepIoTypes: true });
    const perChannelName = 'int8 dynamic, QOperator, per-channel';
    const { rows, reference } = await measureAll(
      [
        ['original (fp32)', s.path],
        ['optimized (extended)', `${base}.opt.onnx`],
        [`int8 dynamic, QOperator${s.perChannel ? ', per-channel' : ''}`, `${base}.int8.onnx`],
        ...(s.perChannelRow ? [[perChannelName, `${base}.int8-pc.onnx`] as const] : []),
        [`int8 dynamic, QDQ${s.perChannel ? ', per-channel' : ''}`, `${base}.int8-qdq.onnx`],
        ['fp16 (fp32 I/O kept)', `${base}.fp16.onnx`],
      ],
      feeds,
      s.classifier,
    );
    const o = rows[0]!;
    const samples = s.heldOut
      ? `${feeds.accuracy.labels!.length} held-out samples`
      : `${s.seq >= 32 ? 64 : ACCURACY_SAMPLES} random samples`;
    sections.push(
      `### ${s.name}\n\n${q.quantized.length} nodes quantized (${[...new Set(q.quantized.map((n) => n.op))].join(', ')}), ${q.skipped.length} left in float; accuracy on ${samples}.\n\n${markdownTable(
        [
          'variant',
          'file',
          'size vs fp32',
          'load ms',
          'latency batch 1 (ms)',
          'batch 32 samples/s',
          'speed-up batch 32',
          'max rel error',
          'top-1 agreement',
          ...(s.heldOut ? ['held-out accuracy'] : []),
        ],
        rows.map((r) => [
          r.variant,
          `${(r.bytes / 2 ** 20).toFixed(2)} MiB`,
          `${(r.bytes / o.bytes).toFixed(2)}x`,
          r.loadMs.toFixed(0),
          r.latencyMs.toFixed(3),
          r.throughput.toFixed(0),
          `${(r.throughput / o.throughput).toFixed(2)}x`,
          r.maxRel,
          r.top1,
          ...(s.heldOut ? [r.accuracy] : []),
        ]),
      )}`,
    );
    const int8 = rows[2]!;
    if (s.goal) {
      const size = int8.bytes / o.bytes;
      const speed = int8.throughput / o.throughput;
      const pc = rows.find((r) => r.variant === perChannelName);
      const parts = [
        `int8 file ${size.toFixed(2)}x (goal <= 0.3x: ${size <= 0.3 ? 'met' : 'not met'})`,
        `batch-32 speed-up ${speed.toFixed(2)}x (goal >= 1.5x: ${speed >= 1.5 ? 'met' : 'not met'})`,
        `max rel error ${int8.maxRel}`,
      ];
      if (s.classifier)
        parts.push(
          `top-1 agreement ${int8.top1} on ${samples} (goal >= 99%: ${percent(int8.top1) >= 99 ? 'met' : 'not met'})`,
        );
      if (s.heldOut) parts.push(`held-out accuracy ${o.accuracy} in fp32, ${int8.accuracy} in int8`);
      if (pc) parts.push(`per-channel weights: max rel error ${pc.maxRel}, top-1 agreement ${pc.top1}`);
      if (s.classifier && !s.heldOut && reference.classes > 0) {
        const close = closeCalls(reference.values, reference.classes, int8.maxAbsError);
        parts.push(
          `${(close * 100).toFixed(1)}% of these samples have their top two fp32 logits closer together than the int8 max abs error (${int8.maxAbsError.toExponential(1)})`,
        );
      }
      goals.push(`- ${s.name} (${s.goal}): ${parts.join(', ')}`);
    }
    summary.push(
      `| ${s.name} | ${(int8.bytes / o.bytes).toFixed(2)}x | ${(int8.throughput / o.throughput).toFixed(2)}x | ${int8.maxRel} | ${int8.top1} |`,
    );
    console.log(
      rows
        .map(
          (r) =>
            `  ${r.variant}: ${r.latencyMs.toFixed(3)} ms, ${r.throughput.toFixed(0)}/s, ${r.maxRel}, ${r.top1}, ${r.accuracy}`,
        )
        .join('\n'),
    );
  }
  const body = `onnxruntime-node ${ort.env.versions.common ?? ''} on the CPU, ${THREADS} intra-op thread, every session at onnxruntime's
default optimization level (so "optimized" differs from "original" mainly in load time: the
fusions are already done). Latency: median of ${LATENCY_RUNS} single-sample runs; throughput: median of
${THROUGHPUT_RUNS} batch-${BATCH} runs (random inputs); each the best of ${ROUNDS} rounds that interleave the variants (other jobs on the shared machine only ever slow a round down).
Accuracy: the same inputs through the original and the variant, in batches of at most ${ACCURACY_BATCH}
(DynamicQuantizeLinear takes one range over a whole batch, so int8 error grows with the batch);
max rel error = max |a - b| / max |a|; top-1 agreement for [batch, classes] outputs. Inputs are
random (${ACCURACY_SAMPLES} samples, 64 for sequence models; standard normal floats, ids uniform over the table),
except for the trained MLP.

The mid MLP (1024 -> 4096 -> 1024, ReLU) is measured twice:

- **trained** (the realistic check): trained by bench/make_optimize_models.py (fixed seeds, 2
  epochs over 32,768 samples, CPU) as a 1024-class classifier on Gaussian class clusters: each
  class is a standard-normal centre in 1024-d, its samples the centre plus noise of standard
  deviation 4 in every dimension. Accuracy runs on its 2,048 held-out samples, and the tables
  also give each variant's accuracy against their labels.
- **random weights** (the harsh test): torch's initial weights, standard-normal inputs. Its 1024
  logits sit close together, so small errors swap the top two; and torch draws every output
  channel's weights from the same uniform range, so per-channel scales cannot help it. Most of
  its int8 error comes from quantizing the standard-normal input to uint8 over a whole batch
  (docs/optimize.md, "Where int8 error comes from").

The 512-wide transformer layer also has random weights. The machine is
shared with other jobs (1-minute load average ${loadBefore.toFixed(1)} when this run started, ${loadavg()[0]!.toFixed(1)} when it ended): speed figures vary between runs.

Goals of issue #10, measured in this run:

${goals.join('\n')}

Reading the tables: int8 gains come from onnxruntime's integer kernels (MatMulInteger with VNNI
on this CPU) and from reading a quarter of the weight bytes. The QDQ form leaves fusion to
onnxruntime at load time; where it does not fuse a pattern (Gemm fed by DynamicQuantizeLinear in
this onnxruntime), the DequantizeLinear of the whole weight runs on every call and QDQ is slower
than QOperator. Per-channel weight scales (\`--per-channel\`) follow each output channel's range:
they cut the trained MLP's weight error, where channels' ranges differ, and change nothing where
all channels share one range. Dynamic ConvInteger is slower than float Conv here (onnxruntime recommends static
QDQ quantization for CNNs); tiny models are dominated by per-call overhead. onnxruntime's CPU
provider has few float16 kernels and casts around the others, so fp16 halves the file but does
not speed up a CPU.

Summary, int8 dynamic (QOperator) vs fp32:

| model | int8 size | batch-32 speed-up | max rel error | top-1 agreement |
| --- | --- | --- | --- | --- |
${summary.join('\n')}

${sections.join('\n\n')}`;
  writeSection(
    'optimize',
    'ONNX optimize / quantize / fp16: size, speed, accuracy',
    'npm run bench -- optimize',
    body,
  );
}
