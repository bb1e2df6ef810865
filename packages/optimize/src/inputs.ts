import type { onnx } from '@ferry/formats';
import { fromFloat16Bits, toFloat16Bits } from './fp16/convert.js';
import { ort } from './runtime.js';
import type { SampleTensor } from './sample-data.js';
import { optimizeError } from './errors.js';

type OnnxModel = onnx.OnnxModel;

/** A symbolic dim other than the batch (sequence length, ...) is given this size in random inputs. */
export const RANDOM_SYMBOLIC_DIM = 8;
/** Integer inputs no Gather bounds are drawn from [0, this). */
export const RANDOM_INT_BOUND = 2;

export interface InputSpec {
  readonly name: string;
  /** ONNX elem type. */
  readonly elem: number;
  /** Dims: numbers, or null for a symbolic/unknown dim. */
  readonly dims: (number | null)[];
  /** For integer inputs: the exclusive upper bound (rows of the table a Gather looks them up in). */
  readonly intBound: number;
}

const ELEM_TO_ORT: Record<number, ort.Tensor.Type> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
};

/** The graph's real inputs (not initializers), with bounds for integer ids. */
export function inputSpecs(model: OnnxModel): InputSpec[] {
  const graph = model.graph ?? {};
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  return (graph.input ?? [])
    .filter((i) => !initializers.has(i.name ?? ''))
    .map((i) => {
      const name = i.name ?? '';
      const tensorType = i.type?.tensor_type;
      let bound = Number.POSITIVE_INFINITY;
      // Ids index embedding tables: keep them in range of every table they are looked up in.
      for (const node of graph.node ?? []) {
        if (node.op_type === 'Gather' && node.input?.[1] === name) {
          const table = initializers.get(node.input?.[0] ?? '');
          const rows = table?.dims?.[0];
          if (rows !== undefined) bound = Math.min(bound, Number(rows));
        }
      }
      return {
        name,
        elem: tensorType?.elem_type ?? 1,
        dims: (tensorType?.shape?.dim ?? []).map((d) =>
          d.dim_value !== undefined ? Number(d.dim_value) : null,
        ),
        intBound: Number.isFinite(bound) ? bound : RANDOM_INT_BOUND,
      };
    });
}

/** mulberry32: a seeded generator, so a verification run can be repeated exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One float32-or-integer array per input; `Feed` is converted per session (fp16 where asked). */
export interface Feed {
  readonly [name: string]: {
    readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;
    readonly dims: number[];
    readonly elem: number;
  };
}

/**
 * N random samples: one batch of N when the first dim is symbolic, else N runs of the fixed
 * shape. Floats are standard normal, integer ids uniform in their table's range.
 */
export function randomFeeds(specs: readonly InputSpec[], samples: number, seed = 1): Feed[] {
  const random = seededRandom(seed);
  const normal = () => {
    const u = 1 - random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const batched = specs.length > 0 && specs.every((s) => s.dims.length > 0 && s.dims[0] === null);
  const runs = batched ? 1 : samples;
  const feeds: Feed[] = [];
  for (let r = 0; r < runs; r++) {
    const feed: Record<string, Feed[string]> = {};
    for (const s of specs) {
      const dims = s.dims.map((d, k) =>
        d !== null ? d : k === 0 && batched ? samples : RANDOM_SYMBOLIC_DIM,
      );
      const count = dims.reduce((a, b) => a * b, 1);
      let data: Feed[string]['data'];
      if (s.elem === 7)
        data = BigInt64Array.from({ length: count }, () => BigInt(Math.floor(random() * s.intBound)));
      else if (s.elem === 6)
        data = Int32Array.from({ length: count }, () => Math.floor(random() * s.intBound));
      else if (s.elem === 9 || s.elem === 2)
        data = Uint8Array.from({ length: count }, () => Math.floor(random() * (s.elem === 9 ? 2 : 256)));
      else if (s.elem === 3) data = Int8Array.from({ length: count }, () => Math.floor(random() * 256) - 128);
      else data = Float32Array.from({ length: count }, normal);
      feed[s.name] = { data, dims, elem: s.elem === 10 || s.elem === 11 ? 1 : s.elem };
    }
    feeds.push(feed);
  }
  return feeds;
}

/**
 * Feeds from a sample file: one tensor per model input, named as the input, samples along the
 * first dim. A model whose batch dim is fixed at 1 gets one run per sample.
 */
export function sampleFeeds(
  specs: readonly InputSpec[],
  samples: readonly SampleTensor[],
  path: string,
): Feed[] {
  // A lone .npy array feeds a model with one input whatever the array is called.
  const only = specs.length === 1 && samples.length === 1 ? samples[0] : undefined;
  const tensors = specs.map((s) => {
    const t = samples.find((x) => x.name === s.name) ?? only;
    const fail = (rule: string) =>
      optimizeError('FERRY_OPTIMIZE_DATA', { path, what: `input ${s.name}`, rule });
    if (!t)
      throw fail(
        `the model's input is missing from the file (it has ${samples.map((x) => x.name).join(', ') || 'no tensors'})`,
      );
    if (t.shape.length !== s.dims.length)
      throw fail(`rank ${t.shape.length}, the model's input has rank ${s.dims.length}`);
    return { s, t, fail };
  });
  const counts = new Set(tensors.map(({ t }) => t.shape[0]));
  const perSample = tensors.length > 0 && tensors.every(({ s }) => s.dims[0] === 1) && counts.size === 1;
  const runs = perSample ? tensors[0]!.t.shape[0]! : 1;
  const feeds: Feed[] = [];
  for (let r = 0; r < runs; r++) {
    const feed: Record<string, Feed[string]> = {};
    for (const { s, t, fail } of tensors) {
      const shape = perSample ? [1, ...t.shape.slice(1)] : t.shape;
      s.dims.forEach((d, k) => {
        if (d !== null && d !== shape[k]) throw fail(`dim ${k} is ${shape[k]}, the model's input has ${d}`);
      });
      const step = t.bytes.byteLength / runs;
      const copy = Uint8Array.prototype.slice.call(t.bytes, r * step, (r + 1) * step);
      feed[s.name] = convertSample(s, t.dtype, copy, shape, fail);
    }
    feeds.push(feed);
  }
  return feeds;
}

function convertSample(
  s: InputSpec,
  dtype: SampleTensor['dtype'],
  copy: Uint8Array,
  dims: number[],
  fail: (rule: string) => Error,
): Feed[string] {
  const isFloatInput = s.elem === 1 || s.elem === 10 || s.elem === 11;
  if (isFloatInput && dtype === 'F32') return { data: new Float32Array(copy.buffer), dims, elem: 1 };
  if (isFloatInput && dtype === 'F16') {
    const bits = new Uint16Array(copy.buffer);
    return { data: Float32Array.from(bits, (b) => fromFloat16Bits(b)), dims, elem: 1 };
  }
  if (isFloatInput && dtype === 'F64')
    return { data: Float32Array.from(new Float64Array(copy.buffer)), dims, elem: 1 };
  if (s.elem === 7 && dtype === 'I64') return { data: new BigInt64Array(copy.buffer), dims, elem: 7 };
  if (s.elem === 6 && dtype === 'I32') return { data: new Int32Array(copy.buffer), dims, elem: 6 };
  if (s.elem === 2 && dtype === 'U8') return { data: copy, dims, elem: 2 };
  if (s.elem === 3 && dtype === 'I8') return { data: new Int8Array(copy.buffer), dims, elem: 3 };
  if (s.elem === 9 && dtype === 'BOOL') return { data: copy, dims, elem: 9 };
  throw fail(`dtype ${dtype} does not fit the input's ONNX type ${s.elem}`);
}

/** A feed as onnxruntime tensors for a session whose inputs may be float16. */
export function toOrtFeeds(feed: Feed, session: ort.InferenceSession): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  const metadata = session.inputMetadata;
  for (const [name, value] of Object.entries(feed)) {
    const meta = metadata.find((m) => m.name === name);
    const type = meta?.isTensor ? meta.type : ELEM_TO_ORT[value.elem];
    if (type === 'float16' && value.data instanceof Float32Array)
      out[name] = new ort.Tensor(
        'float16',
        Uint16Array.from(value.data, (v) => toFloat16Bits(v)),
        value.dims,
      );
    else if (type === 'float64' && value.data instanceof Float32Array)
      out[name] = new ort.Tensor('float64', Float64Array.from(value.data), value.dims);
    else out[name] = new ort.Tensor(ELEM_TO_ORT[value.elem] ?? 'float32', value.data, value.dims);
  }
  return out;
}

/** A tensor's values as float64 numbers for comparison (float16 decoded). */
export function tensorValues(t: ort.Tensor): Float64Array {
  const data = t.data as ArrayLike<number | bigint>;
  if (t.type === 'float16') return Float64Array.from(data as Uint16Array, (b) => fromFloat16Bits(b));
  if (t.type === 'int64' || t.type === 'uint64')
    return Float64Array.from(data as BigInt64Array, (v) => Number(v));
  return Float64Array.from(data as ArrayLike<number>);
}
