import { ferryError } from '@ferry/formats';
import type { OnnxGraph, OnnxModel, OnnxNode, OnnxTensor } from '../onnx-schema.js';
import { assertNotQuantized } from './already.js';
import {
  defaultOpset,
  floatAttr,
  floatValues,
  graphNames,
  intAttr,
  intAttribute,
  makeNode,
  makeTensor,
  NameSet,
  ONNX_FLOAT,
  ONNX_INT8,
  ONNX_UINT8,
  setDefaultOpset,
} from './graph-data.js';
import { type QuantizedWeight, qRange, quantizeWeight, scaleZeroPoint } from './params.js';
import { optimizeError } from '../errors.js';

export type QuantizeFormat = 'qoperator' | 'qdq';
export const QUANTIZABLE_OPS = ['MatMul', 'Gemm', 'Conv', 'Gather'] as const;
export type QuantizableOp = (typeof QUANTIZABLE_OPS)[number];

/** Weights with fewer elements are left in float: they save next to nothing and cost accuracy. */
export const DEFAULT_MIN_WEIGHT_ELEMENTS = 1024;

export interface QuantizeOptions {
  /** For messages. */
  readonly path?: string;
  /** Op types to quantize; default MatMul and Gemm (onnxruntime adds Conv and Gather on request). */
  readonly ops?: readonly QuantizableOp[];
  readonly perChannel?: boolean;
  readonly reduceRange?: boolean;
  readonly format?: QuantizeFormat;
  readonly minWeightElements?: number;
  /**
   * Static quantization: the calibrated range of each activation (see `activationsToCalibrate`).
   * Activations are then quantized with fixed scales (QuantizeLinear) instead of
   * DynamicQuantizeLinear; QDQ form only.
   */
  readonly activationRanges?: ReadonlyMap<string, { min: number; max: number }>;
}

export interface QuantizedNodeReport {
  readonly node: string;
  readonly op: string;
  readonly weight: string;
  readonly elements: number;
  readonly perChannel: boolean;
}

export interface QuantizeResult {
  readonly model: OnnxModel;
  readonly quantized: QuantizedNodeReport[];
  readonly skipped: { node: string; op: string; reason: string }[];
  readonly opsetRaised?: { from: number; to: number };
}

/** The integer operators arrived in opset 10; onnxruntime's quantizer refuses older models. */
export const MIN_QUANTIZE_OPSET = 10;
/** DynamicQuantizeLinear is opset 11 (onnxruntime raises 10 to 11 the same way). */
const DYNAMIC_OPSET = 11;
/** DequantizeLinear's `axis` (per-channel) is opset 13. */
const PER_AXIS_OPSET = 13;

interface Candidate {
  readonly node: OnnxNode;
  readonly op: QuantizableOp;
  readonly weight: OnnxTensor;
  /** The input index that holds the weight. */
  readonly weightInput: number;
  /** Per-channel axis of the weight as stored. */
  readonly channelAxis: number;
  /** Whether per-channel scales fit this node (a Gather other than rows of a 2-D table does not). */
  readonly perChannelOk: boolean;
}

/**
 * Which nodes would be quantized, and why the others are not. Shared by the transform and by
 * calibration (which needs the activations feeding the chosen nodes).
 */
function candidates(model: OnnxModel, options: QuantizeOptions) {
  const graph = model.graph!;
  const ops = new Set<string>(options.ops ?? ['MatMul', 'Gemm']);
  const min = options.minWeightElements ?? DEFAULT_MIN_WEIGHT_ELEMENTS;
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  // Before IR 4 an initializer listed as a graph input is only a default: the caller may override it.
  const inputs = new Set((graph.input ?? []).map((i) => i.name ?? ''));
  const constant = (name: string | undefined) => {
    const t = name !== undefined && !inputs.has(name) ? initializers.get(name) : undefined;
    return t && t.data_type === ONNX_FLOAT ? t : undefined;
  };
  const chosen: Candidate[] = [];
  const skipped: QuantizeResult['skipped'] = [];
  for (const node of graph.node ?? []) {
    const op = node.op_type ?? '';
    if (!ops.has(op) || (node.domain ?? '') !== '') continue;
    const name = node.name || (node.output ?? [])[0] || op;
    const skip = (reason: string) => skipped.push({ node: name, op, reason });
    const weightInput = op === 'Gather' ? 0 : 1;
    const weight = constant(node.input?.[weightInput]);
    if (!weight) {
      skip(`input ${weightInput} is not a float32 initializer`);
      continue;
    }
    const rank = weight.dims?.length ?? 0;
    const elements = (weight.dims ?? []).reduce((a, d) => a * Number(d), 1);
    if (elements < min) {
      skip(`weight ${weight.name} has ${elements} elements, fewer than ${min}`);
      continue;
    }
    let channelAxis = 0;
    let perChannelOk = true;
    if (op === 'MatMul') {
      // MatMulInteger follows numpy matmul, so a stacked [..., K, N] weight works; 1-D does not.
      if (rank < 2) {
        skip(`weight ${weight.name} has rank ${rank}, fewer than 2`);
        continue;
      }
      if (constant(node.input?.[0])) {
        skip('both inputs are initializers (constant folding, not quantization, applies)');
        continue;
      }
      channelAxis = rank - 1;
      // onnxruntime's fused DynamicQuantizeMatMul takes per-column parameters of 2-D weights only.
      perChannelOk = rank === 2;
    } else if (op === 'Gemm') {
      if (rank !== 2) {
        skip(`weight ${weight.name} has rank ${rank}, not 2`);
        continue;
      }
      channelAxis = intAttr(node, 'transB', 0) === 1 ? 0 : 1;
    } else if (op === 'Conv') {
      if (rank < 3) {
        skip(`weight ${weight.name} has rank ${rank}`);
        continue;
      }
      const bias = node.input?.[2];
      if (bias && !constant(bias)) {
        skip('bias is not a float32 initializer');
        continue;
      }
    } else if (op === 'Gather') {
      // Per-channel scales follow the gathered rows only for row lookups in a 2-D table.
      perChannelOk = rank === 2 && intAttr(node, 'axis', 0) === 0;
      channelAxis = 1;
    }
    chosen.push({ node, op: op as QuantizableOp, weight, weightInput, channelAxis, perChannelOk });
  }
  return { chosen, skipped };
}

/** The float activations that static quantization quantizes: the calibration targets. */
export function activationsToCalibrate(model: OnnxModel, options: QuantizeOptions = {}): string[] {
  const { chosen } = candidates(model, options);
  const names = new Set<string>();
  for (const c of chosen) if (c.op !== 'Gather') names.add(c.node.input![0]!);
  return [...names];
}

/**
 * Int8 quantization as onnxruntime's quantize_dynamic / quantize_static define it
 * (onnxruntime/python/tools/quantization: onnx_quantizer.py, qdq_quantizer.py, operators/).
 * Weights are symmetric int8, per tensor or per output channel; activations are uint8,
 * quantized at run time by DynamicQuantizeLinear or, with `activationRanges`, with calibrated
 * fixed scales. Returns a new model; the input is not changed.
 */
export function quantizeModel(input: OnnxModel, options: QuantizeOptions = {}): QuantizeResult {
  const path = options.path ?? '<model>';
  if (!input.graph) throw ferryError('FERRY_ONNX_NOT_MODEL', { path, reason: 'ModelProto has no graph' });
  const format = options.format ?? 'qoperator';
  const isStatic = options.activationRanges !== undefined;
  if (isStatic && format !== 'qdq')
    throw ferryError('FERRY_BAD_ARGUMENT', {
      what: 'static quantization',
      reason: 'calibrated quantization is written in QDQ form (--format qdq)',
    });
  const opset = defaultOpset(input);
  if (opset < MIN_QUANTIZE_OPSET)
    throw optimizeError('FERRY_QUANTIZE_OPSET', {
      path,
      what: 'int8 quantization',
      needed: MIN_QUANTIZE_OPSET,
      opset,
    });
  assertNotQuantized(input, path);

  const model: OnnxModel = { ...input, opset_import: (input.opset_import ?? []).map((o) => ({ ...o })) };
  const graph: OnnxGraph = { ...input.graph };
  model.graph = graph;
  let opsetRaised: QuantizeResult['opsetRaised'];
  if (opset < DYNAMIC_OPSET) {
    setDefaultOpset(model, DYNAMIC_OPSET);
    opsetRaised = { from: opset, to: DYNAMIC_OPSET };
  }
  const perAxisOk = Math.max(opset, DYNAMIC_OPSET) >= PER_AXIS_OPSET;
  const reduceRange = options.reduceRange ?? false;
  const { chosen, skipped } = candidates(input, options);
  const byNode = new Map(chosen.map((c) => [c.node, c]));
  const names = new NameSet(graphNames(input));
  const newInitializers: OnnxTensor[] = [];
  const nodes: OnnxNode[] = [];
  const quantized: QuantizedNodeReport[] = [];

  // Activations: quantized once per value, reused by every consumer (q, k, v share x).
  const activationCache = new Map<string, { q: string; scale: string; zp: string; dq?: string }>();
  const activation = (x: string, wantDq: boolean) => {
    let entry = activationCache.get(x);
    if (!entry) {
      const q = names.fresh(`${x}_quantized`);
      const scale = names.fresh(`${x}_scale`);
      const zp = names.fresh(`${x}_zero_point`);
      const range = options.activationRanges?.get(x);
      if (isStatic) {
        if (!range)
          throw ferryError('FERRY_BAD_ARGUMENT', {
            what: `activation ${x}`,
            reason: 'no calibrated range (calibration did not reach it)',
          });
        const [qmin, qmax] = qRange('uint8', reduceRange, false);
        const p = scaleZeroPoint(range.min, range.max, qmin, qmax, false);
        newInitializers.push(makeTensor(scale, ONNX_FLOAT, [], Float32Array.of(p.scale)));
        newInitializers.push(makeTensor(zp, ONNX_UINT8, [], Uint8Array.of(p.zeroPoint)));
        nodes.push(makeNode('QuantizeLinear', [x, scale, zp], [q], names.fresh(`${x}_QuantizeLinear`)));
      } else {
        nodes.push(
          makeNode('DynamicQuantizeLinear', [x], [q, scale, zp], names.fresh(`${x}_DynamicQuantizeLinear`)),
        );
      }
      entry = { q, scale, zp };
      activationCache.set(x, entry);
    }
    if (wantDq && !entry.dq) {
      entry.dq = names.fresh(`${x}_dequantized`);
      nodes.push(
        makeNode(
          'DequantizeLinear',
          [entry.q, entry.scale, entry.zp],
          [entry.dq],
          names.fresh(`${x}_DequantizeLinear`),
        ),
      );
    }
    return entry;
  };

  // Weights: quantized once per initializer and layout.
  const weightCache = new Map<
    string,
    { q: string; scale: string; zp: string; w: QuantizedWeight; dims: number[]; dq?: string }
  >();
  const weight = (c: Candidate, layout: 'stored' | 'kn', perChannel: boolean) => {
    const key = `${c.weight.name}|${layout}|${perChannel}`;
    let entry = weightCache.get(key);
    if (!entry) {
      let data = floatValues(path, c.weight);
      let dims = (c.weight.dims ?? []).map(Number);
      let axis = c.channelAxis;
      if (layout === 'kn' && c.op === 'Gemm' && intAttr(c.node, 'transB', 0) === 1) {
        data = transpose2d(data, dims[0]!, dims[1]!);
        dims = [dims[1]!, dims[0]!];
        axis = 1;
      }
      const w = quantizeWeight(data, dims, { ...(perChannel && { axis }), reduceRange });
      const base = c.weight.name ?? 'weight';
      const q = names.fresh(`${base}_quantized`);
      const scale = names.fresh(`${base}_scale`);
      const zp = names.fresh(`${base}_zero_point`);
      const channels = w.scales.length;
      newInitializers.push(makeTensor(q, ONNX_INT8, dims, w.values));
      newInitializers.push(makeTensor(scale, ONNX_FLOAT, perChannel ? [channels] : [], w.scales));
      newInitializers.push(makeTensor(zp, ONNX_INT8, perChannel ? [channels] : [], w.zeroPoints));
      entry = { q, scale, zp, w, dims };
      weightCache.set(key, entry);
    }
    return entry;
  };

  for (const node of graph.node ?? []) {
    const c = byNode.get(node);
    if (!c) {
      nodes.push(node);
      continue;
    }
    const name = node.name || (node.output ?? [])[0] || c.op;
    // Per-channel scales of a DequantizeLinear need its `axis` (opset 13); QOperator MatMul and
    // Conv apply them with a broadcast Mul instead, which any opset has.
    const needsAxis = format === 'qdq' || c.op === 'Gather';
    const perChannel = (options.perChannel ?? false) && (!needsAxis || perAxisOk) && c.perChannelOk;
    if (options.perChannel && !perChannel)
      skipped.push({
        node: name,
        op: c.op,
        reason: c.perChannelOk
          ? `per-channel needs opset ${PER_AXIS_OPSET}; quantized per tensor`
          : c.op === 'Gather'
            ? 'per-channel only for row lookups in a 2-D table; quantized per tensor'
            : 'per-channel only for 2-D weights; quantized per tensor',
      });
    quantized.push({
      node: name,
      op: c.op,
      weight: c.weight.name ?? '',
      elements: (c.weight.dims ?? []).reduce((a, d) => a * Number(d), 1),
      perChannel,
    });
    if (format === 'qdq') emitQdq(c, perChannel);
    else emitQOperator(c, perChannel, name);
  }

  function emitQdq(c: Candidate, perChannel: boolean) {
    const w = weight(c, 'stored', perChannel);
    if (!w.dq) {
      w.dq = names.fresh(`${c.weight.name}_dequantized`);
      const attrs = perChannel ? [intAttribute('axis', c.channelAxis)] : [];
      nodes.push(
        makeNode(
          'DequantizeLinear',
          [w.q, w.scale, w.zp],
          [w.dq],
          names.fresh(`${c.weight.name}_DequantizeLinear`),
          attrs,
        ),
      );
    }
    const inputs = [...(c.node.input ?? [])];
    inputs[c.weightInput] = w.dq;
    if (c.op !== 'Gather') inputs[0] = activation(inputs[0]!, true).dq!;
    nodes.push({ ...c.node, input: inputs });
  }

  function emitQOperator(c: Candidate, perChannel: boolean, name: string) {
    const out = c.node.output![0]!;
    if (c.op === 'Gather') {
      const w = weight(c, 'stored', perChannel);
      const gathered = names.fresh(`${out}_quantized`);
      nodes.push(
        makeNode(
          'Gather',
          [w.q, c.node.input![1]!],
          [gathered],
          names.fresh(`${name}_quant`),
          c.node.attribute ?? [],
        ),
      );
      const attrs = perChannel ? [intAttribute('axis', -1)] : [];
      nodes.push(
        makeNode(
          'DequantizeLinear',
          [gathered, w.scale, w.zp],
          [out],
          names.fresh(`${name}_DequantizeLinear`),
          attrs,
        ),
      );
      return;
    }
    let a = c.node.input![0]!;
    if (c.op === 'Gemm' && intAttr(c.node, 'transA', 0) === 1) {
      // MatMulInteger has no transA: transpose the activation first (Gemm's A is 2-D).
      const transposed = names.fresh(`${a}_transposed`);
      nodes.push(makeNode('Transpose', [a], [transposed], names.fresh(`${name}_transA`)));
      a = transposed;
    }
    const x = activation(a, false);
    const w = weight(c, 'kn', perChannel);
    const integer = names.fresh(`${out}_output_quantized`);
    if (c.op === 'Conv') {
      const convAttrs = (c.node.attribute ?? []).filter((a) => a.name !== 'activation');
      nodes.push(
        makeNode(
          'ConvInteger',
          [x.q, w.q, x.zp, zeroScalar(w)],
          [integer],
          names.fresh(`${name}_quant`),
          convAttrs,
        ),
      );
    } else {
      nodes.push(
        makeNode('MatMulInteger', [x.q, w.q, x.zp, zeroScalar(w)], [integer], names.fresh(`${name}_quant`)),
      );
    }
    const asFloat = names.fresh(`${integer}_cast`);
    nodes.push(
      makeNode('Cast', [integer], [asFloat], names.fresh(`${name}_cast`), [intAttribute('to', ONNX_FLOAT)]),
    );
    // Output scale = activation scale * weight scale (* Gemm's alpha), shaped to broadcast.
    const alpha = c.op === 'Gemm' ? floatAttr(c.node, 'alpha', 1) : 1;
    const spatial = c.op === 'Conv' ? w.dims.length - 2 : 0;
    let wScale = w.scale;
    if (alpha !== 1 || (perChannel && spatial > 0)) {
      wScale = names.fresh(`${name}_weight_scale`);
      const scaled = w.w.scales.map((s) => s * alpha);
      const dims = perChannel ? [scaled.length, ...new Array(spatial).fill(1)] : [];
      newInitializers.push(makeTensor(wScale, ONNX_FLOAT, dims, scaled));
    }
    const scale = names.fresh(`${name}_scale`);
    nodes.push(makeNode('Mul', [x.scale, wScale], [scale], names.fresh(`${name}_scale_mul`)));
    const bias = biasInput(c, name);
    const scaledOut = bias ? names.fresh(`${out}_unbiased`) : out;
    nodes.push(makeNode('Mul', [asFloat, scale], [scaledOut], names.fresh(`${name}_output_scale_mul`)));
    if (bias) nodes.push(makeNode('Add', [scaledOut, bias], [out], names.fresh(`${name}_bias_add`)));
  }

  /** A zero point of 0 (weights are symmetric): one scalar serves every channel. */
  function zeroScalar(w: { q: string }) {
    const zp = names.fresh(`${w.q}_zero`);
    newInitializers.push(makeTensor(zp, ONNX_INT8, [], Int8Array.of(0)));
    return zp;
  }

  /** Gemm's beta * C, or Conv's bias shaped [M, 1, 1...] to broadcast over NCHW. */
  function biasInput(c: Candidate, name: string): string | undefined {
    if (c.op === 'Gemm') {
      const cName = c.node.input?.[2];
      if (!cName) return undefined;
      const beta = floatAttr(c.node, 'beta', 1);
      if (beta === 1) return cName;
      const betaName = names.fresh(`${name}_beta`);
      newInitializers.push(makeTensor(betaName, ONNX_FLOAT, [], Float32Array.of(beta)));
      const scaled = names.fresh(`${cName}_scaled`);
      nodes.push(makeNode('Mul', [cName, betaName], [scaled], names.fresh(`${name}_beta_mul`)));
      return scaled;
    }
    if (c.op === 'Conv') {
      const bName = c.node.input?.[2];
      if (!bName) return undefined;
      const b = (graph.initializer ?? []).find((t) => t.name === bName)!;
      const values = floatValues(path, b);
      const reshaped = names.fresh(`${bName}_reshaped`);
      const spatial = (c.weight.dims?.length ?? 4) - 2;
      newInitializers.push(
        makeTensor(reshaped, ONNX_FLOAT, [values.length, ...new Array(spatial).fill(1)], values),
      );
      return reshaped;
    }
    return undefined;
  }

  // Float weights nobody reads any more are dropped (a weight shared with a float node stays).
  const used = new Set<string>();
  for (const n of nodes) for (const i of n.input ?? []) used.add(i);
  for (const o of graph.output ?? []) used.add(o.name ?? '');
  const keep = (t: OnnxTensor) => used.has(t.name ?? '');
  const replaced = new Set(chosen.map((c) => c.weight.name ?? ''));
  graph.initializer = [
    ...(graph.initializer ?? []).filter((t) => !replaced.has(t.name ?? '') || keep(t)),
    ...newInitializers,
  ];
  const initializerNames = new Set(graph.initializer.map((t) => t.name ?? ''));
  graph.input = (graph.input ?? []).filter(
    (i) => !replaced.has(i.name ?? '') || initializerNames.has(i.name ?? ''),
  );
  graph.node = nodes;
  return { model, quantized, skipped, ...(opsetRaised && { opsetRaised }) };
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}
