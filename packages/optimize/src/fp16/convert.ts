import { ferryError } from '@ferry/formats';
import { assertNotQuantized } from '../quantize/already.js';
import {
  defaultOpset,
  floatValues,
  graphNames,
  intAttribute,
  makeNode,
  makeTensor,
  NameSet,
  ONNX_BOOL,
  ONNX_FLOAT,
  ONNX_FLOAT16,
  ONNX_INT64,
} from '../quantize/graph-data.js';
import {
  ONNX_DATA_TYPE_NAMES,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from '../onnx-schema.js';
import { optimizeError } from '../errors.js';

/**
 * Ops kept in float32: onnxconverter_common's float16.py DEFAULT_OP_BLOCK_LIST (ONNX-ML ops
 * with no float16 form, ops whose float16 results lose too much: TopK, NonMaxSuppression,
 * Resize, Range, CumSum, Min/Max in onnxruntime's kernels, random generators).
 */
export const FP16_OP_BLOCK_LIST: readonly string[] = [
  'ArrayFeatureExtractor',
  'Binarizer',
  'CastMap',
  'CategoryMapper',
  'DictVectorizer',
  'FeatureVectorizer',
  'Imputer',
  'LabelEncoder',
  'LinearClassifier',
  'LinearRegressor',
  'Normalizer',
  'OneHotEncoder',
  'RandomUniformLike',
  'SVMClassifier',
  'SVMRegressor',
  'Scaler',
  'TreeEnsembleClassifier',
  'TreeEnsembleRegressor',
  'ZipMap',
  'NonMaxSuppression',
  'TopK',
  'RoiAlign',
  'Resize',
  'Range',
  'CumSum',
  'Min',
  'Max',
  'Upsample',
];

/**
 * Kept in float32 as well, found by converting onnx's operator tests and running them in
 * onnxruntime 1.30: Celu's schema allows tensor(float) only; onnxruntime has no float16 kernel
 * for EyeLike, RandomNormal(Like), RandomUniform or Bernoulli (so their dtype stays float32 and
 * their output is cast); MeanVarianceNormalization's function body holds float32 constants.
 * Scatter ops with a reduction are blocked separately (no float16 add/mul reduction kernel).
 */
export const FP16_RUNTIME_BLOCK_LIST: readonly string[] = [
  'Celu',
  'EyeLike',
  'RandomNormal',
  'RandomNormalLike',
  'RandomUniform',
  'Bernoulli',
  'MeanVarianceNormalization',
];

/** Cast-6: the first Cast with an integer `to` and float16 outputs onnxruntime can infer. */
export const MIN_FP16_OPSET = 6;

/** float16's largest finite value; larger float32 values are clamped to it (with sign). */
export const FP16_MAX = 65504;
/** float16's smallest subnormal: smaller non-zero magnitudes are raised to it, not flushed to 0. */
export const FP16_MIN_POSITIVE = 2 ** -24;

export interface Float16Options {
  readonly path?: string;
  /** Keep float32 graph inputs and outputs, with Cast nodes at the boundary. */
  readonly keepIoTypes?: boolean;
  /** Op types kept in float32; default FP16_OP_BLOCK_LIST. */
  readonly blockList?: readonly string[];
}

export interface Float16Result {
  readonly model: OnnxModel;
  readonly convertedInitializers: number;
  readonly clamped: number;
  readonly blockedNodes: string[];
}

/** float32 -> float16 bits, round to nearest even, after clamping into float16's range. */
export function toFloat16Bits(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf, NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1) === 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function clampValue(v: number): { value: number; clamped: boolean } {
  if (!Number.isFinite(v)) return { value: v, clamped: false };
  const a = Math.abs(v);
  if (a > FP16_MAX) return { value: Math.sign(v) * FP16_MAX, clamped: true };
  if (a > 0 && a < FP16_MIN_POSITIVE) return { value: Math.sign(v) * FP16_MIN_POSITIVE, clamped: true };
  return { value: v, clamped: false };
}

/** Ops whose outputs have a fixed non-float type whatever their inputs are. */
const FIXED_OUTPUT: Record<string, number> = {
  Shape: ONNX_INT64,
  Size: ONNX_INT64,
  NonZero: ONNX_INT64,
  ArgMax: ONNX_INT64,
  ArgMin: ONNX_INT64,
  Equal: ONNX_BOOL,
  Less: ONNX_BOOL,
  LessOrEqual: ONNX_BOOL,
  Greater: ONNX_BOOL,
  GreaterOrEqual: ONNX_BOOL,
  Not: ONNX_BOOL,
  And: ONNX_BOOL,
  Or: ONNX_BOOL,
  Xor: ONNX_BOOL,
  IsNaN: ONNX_BOOL,
  IsInf: ONNX_BOOL,
};

/** Outputs after the first whose type is fixed: indices and masks (onnx Operators.md). */
const FIXED_LATER_OUTPUT: Record<string, Record<number, number>> = {
  TopK: { 1: ONNX_INT64 },
  MaxPool: { 1: ONNX_INT64 },
  Dropout: { 1: ONNX_BOOL },
  Unique: { 1: ONNX_INT64, 2: ONNX_INT64, 3: ONNX_INT64 },
};

const outputType = (op: string, k: number, first: number | undefined) => FIXED_LATER_OUTPUT[op]?.[k] ?? first;

/**
 * Converts a float32 model to float16 as onnxconverter_common's float16.convert_float_to_float16
 * does: float initializers, Constant values and value types become float16 (clamped into its
 * range), Cast(to=FLOAT) becomes Cast(to=FLOAT16), block-listed ops stay float32 with Casts
 * around them, and with `keepIoTypes` the graph keeps float32 inputs and outputs. The main graph
 * only; a model with subgraphs (If, Loop, Scan) is refused rather than half converted.
 */
export function convertToFloat16(input: OnnxModel, options: Float16Options = {}): Float16Result {
  const path = options.path ?? '<model>';
  const source = input.graph;
  if (!source) throw ferryError('FERRY_ONNX_NOT_MODEL', { path, reason: 'ModelProto has no graph' });
  // Quantize/dequantize ops take float32 only; convert the float model, then quantize if wanted.
  assertNotQuantized(input, path);
  const block = new Set(options.blockList ?? [...FP16_OP_BLOCK_LIST, ...FP16_RUNTIME_BLOCK_LIST]);
  const isBlocked = (node: OnnxNode) => {
    if (!['', 'ai.onnx', 'ai.onnx.ml'].includes(node.domain ?? '')) return false;
    if (block.has(node.op_type ?? '')) return true;
    const reduction = node.attribute?.find((a) => a.name === 'reduction')?.s;
    return (
      (node.op_type === 'ScatterElements' || node.op_type === 'ScatterND') &&
      reduction !== undefined &&
      new TextDecoder().decode(reduction) !== 'none'
    );
  };
  // Cast-1..5 name the target type with a string, and onnxruntime infers no float16 output for
  // them; float16 models start with Cast-6 (onnx Changelog).
  const opset = defaultOpset(input);
  if (opset < MIN_FP16_OPSET)
    throw optimizeError('FERRY_QUANTIZE_OPSET', {
      path,
      what: 'float16 conversion',
      needed: MIN_FP16_OPSET,
      opset,
    });
  const castTo = (to: number) => intAttribute('to', to);
  for (const node of source.node ?? []) {
    if ((node.attribute ?? []).some((a) => a.g || (a.graphs?.length ?? 0) > 0))
      throw ferryError('FERRY_UNSUPPORTED', {
        path,
        what: `float16 conversion of node ${node.name || node.op_type} (${node.op_type})`,
        reason: 'subgraphs are not converted',
      });
  }
  const hasFloat32 =
    (source.initializer ?? []).some((t) => t.data_type === ONNX_FLOAT) ||
    (source.input ?? []).some((i) => elemType(i) === ONNX_FLOAT) ||
    (source.output ?? []).some((o) => elemType(o) === ONNX_FLOAT);
  const hasFloat16 =
    (source.initializer ?? []).some((t) => t.data_type === ONNX_FLOAT16) ||
    (source.input ?? []).some((i) => elemType(i) === ONNX_FLOAT16);
  if (!hasFloat32)
    throw hasFloat16
      ? optimizeError('FERRY_FP16_ALREADY', {
          path,
          reason: 'its inputs and initializers are float16, none float32',
        })
      : ferryError('FERRY_UNSUPPORTED', {
          path,
          what: 'float16 conversion',
          reason: 'the model has no float32 tensors',
        });

  const names = new NameSet(graphNames(input));
  const graph: OnnxGraph = { ...source };
  const model: OnnxModel = { ...input, graph };
  let clamped = 0;
  let converted = 0;

  // Initializers that only blocked nodes read stay float32 (onnxconverter_common does the same):
  // a Resize scale of 0.6 must not become 0.5996.
  const consumers = new Map<string, OnnxNode[]>();
  for (const node of source.node ?? [])
    for (const i of node.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), node]);
  const graphOutputs = new Set((source.output ?? []).map((o) => o.name ?? ''));
  const keepFloat32 = new Set(
    (source.initializer ?? [])
      .map((t) => t.name ?? '')
      .filter(
        (n) =>
          !graphOutputs.has(n) && (consumers.get(n) ?? []).length > 0 && consumers.get(n)!.every(isBlocked),
      ),
  );

  const toHalf = (t: OnnxTensor): OnnxTensor => {
    if (t.data_type !== ONNX_FLOAT || keepFloat32.has(t.name ?? '')) return t;
    const values = floatValues(path, t);
    const bits = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const c = clampValue(values[i]!);
      if (c.clamped) clamped++;
      bits[i] = toFloat16Bits(c.value);
    }
    converted++;
    const { raw_data: _r, float_data: _f, ...rest } = t;
    return { ...rest, ...makeTensor(t.name ?? '', ONNX_FLOAT16, (t.dims ?? []).map(Number), bits) };
  };

  // Element types of values, so Casts go only on float edges of blocked nodes.
  const types = new Map<string, number>();
  for (const t of source.initializer ?? []) types.set(t.name ?? '', t.data_type ?? 0);
  for (const v of [...(source.input ?? []), ...(source.value_info ?? [])]) {
    const e = elemType(v);
    if (e !== undefined) types.set(v.name ?? '', e);
  }

  const keepIo = options.keepIoTypes ?? false;
  const nodes: OnnxNode[] = [];
  const renamedInputs = new Map<string, string>();
  const initializerNames = new Set((source.initializer ?? []).map((t) => t.name ?? ''));
  // Graph inputs: float32 in the signature, cast once to float16 for the graph (keepIoTypes).
  const inputs: OnnxValueInfo[] = [];
  for (const i of source.input ?? []) {
    const name = i.name ?? '';
    if (elemType(i) !== ONNX_FLOAT || initializerNames.has(name)) {
      inputs.push(initializerNames.has(name) && !keepFloat32.has(name) ? withElem(i, ONNX_FLOAT16) : i);
      continue;
    }
    if (keepIo) {
      const half = names.fresh(`${name}_fp16`);
      nodes.push(
        makeNode('Cast', [name], [half], names.fresh(`${name}_cast_to_fp16`), [castTo(ONNX_FLOAT16)]),
      );
      renamedInputs.set(name, half);
      inputs.push(i);
    } else inputs.push(withElem(i, ONNX_FLOAT16));
  }
  const outputNames = new Set((source.output ?? []).map((o) => o.name ?? ''));
  const renamedOutputs = new Map<string, string>();
  if (keepIo)
    for (const o of source.output ?? [])
      if (elemType(o) === ONNX_FLOAT) renamedOutputs.set(o.name ?? '', names.fresh(`${o.name}_fp16`));
  const rename = (n: string) => renamedInputs.get(n) ?? renamedOutputs.get(n) ?? n;

  const blockedNodes: string[] = [];
  for (const original of source.node ?? []) {
    const op = original.op_type ?? '';
    const node: OnnxNode = {
      ...original,
      input: (original.input ?? []).map(rename),
      output: (original.output ?? []).map(rename),
    };
    // Type of the outputs as this op computes them (before conversion).
    const firstKnown = (original.input ?? []).map((n) => types.get(n)).find((t) => t !== undefined);
    let outType = FIXED_OUTPUT[op] ?? firstKnown;
    if (op === 'Cast') outType = castTarget(original);
    // Generators: the dtype attribute, else float32 (RandomNormal) or the input's type (*Like).
    const dtype = original.attribute?.find((a) => a.name === 'dtype')?.i;
    if (op === 'RandomNormal' || op === 'RandomUniform') outType = Number(dtype ?? BigInt(ONNX_FLOAT));
    if (op === 'RandomNormalLike' || op === 'RandomUniformLike' || op === 'EyeLike' || op === 'Bernoulli')
      outType = dtype !== undefined ? Number(dtype) : firstKnown;
    if (op === 'Constant' || op === 'ConstantOfShape') {
      const t = original.attribute?.find((a) => a.name === 'value')?.t;
      outType = t?.data_type ?? ONNX_FLOAT;
    }
    if (isBlocked(original)) {
      blockedNodes.push(original.name || op);
      // Inputs that became float16 go back to float32; float outputs come out float32 and are cast.
      node.input = node.input!.map((n, k) => {
        const t = types.get(original.input![k]!);
        if (n === '' || t !== ONNX_FLOAT || keepFloat32.has(original.input![k]!)) return n;
        const back = names.fresh(`${n}_fp32`);
        nodes.push(makeNode('Cast', [n], [back], names.fresh(`${n}_cast_to_fp32`), [castTo(ONNX_FLOAT)]));
        return back;
      });
      const after: OnnxNode[] = [];
      node.output = node.output!.map((n, k) => {
        if (n === '' || outputType(op, k, outType) !== ONNX_FLOAT) return n;
        const raw = names.fresh(`${n}_fp32`);
        after.push(makeNode('Cast', [raw], [n], names.fresh(`${n}_cast_to_fp16`), [castTo(ONNX_FLOAT16)]));
        return raw;
      });
      nodes.push(node, ...after);
    } else {
      if (op === 'Cast' && outType === ONNX_FLOAT)
        node.attribute = setTo(original.attribute ?? [], ONNX_FLOAT16);
      if (op === 'Constant' || op === 'ConstantOfShape')
        node.attribute = (original.attribute ?? []).map((a) => (a.t ? { ...a, t: toHalf(a.t) } : a));
      nodes.push(node);
    }
    (original.output ?? []).forEach((o, k) => {
      const t = outputType(op, k, outType);
      if (t !== undefined) types.set(o, t);
    });
  }
  for (const [original, half] of renamedOutputs)
    nodes.push(
      makeNode('Cast', [half], [original], names.fresh(`${original}_cast_to_fp32`), [castTo(ONNX_FLOAT)]),
    );

  graph.node = nodes;
  graph.input = inputs;
  graph.initializer = (source.initializer ?? []).map(toHalf);
  graph.output = (source.output ?? []).map((o) =>
    keepIo || elemType(o) !== ONNX_FLOAT ? o : withElem(o, ONNX_FLOAT16),
  );
  graph.value_info = (source.value_info ?? [])
    .filter((v) => !outputNames.has(v.name ?? ''))
    .map((v) => (elemType(v) === ONNX_FLOAT ? withElem(v, ONNX_FLOAT16) : v));
  // Values around blocked nodes change type; drop their stale annotations rather than mislead.
  if (blockedNodes.length > 0) graph.value_info = [];
  return { model, convertedInitializers: converted, clamped, blockedNodes };
}

function elemType(v: OnnxValueInfo): number | undefined {
  return v.type?.tensor_type?.elem_type;
}

function withElem(v: OnnxValueInfo, elem: number): OnnxValueInfo {
  return { ...v, type: { ...v.type, tensor_type: { ...v.type?.tensor_type, elem_type: elem } } };
}

/** Cast's target type (Cast-6's int; a string from Cast-1..5 models is refused before). */
function castTarget(node: OnnxNode): number {
  const a = node.attribute?.find((x) => x.name === 'to');
  if (a?.s !== undefined) {
    const name = new TextDecoder().decode(a.s);
    const code = Object.entries(ONNX_DATA_TYPE_NAMES).find(([, n]) => n === name)?.[0];
    return code === undefined ? 0 : Number(code);
  }
  return Number(a?.i ?? 0n);
}

function setTo(attributes: OnnxAttribute[], to: number): OnnxAttribute[] {
  return attributes.map((a) => {
    if (a.name !== 'to') return a;
    return { ...a, i: BigInt(to) };
  });
}
