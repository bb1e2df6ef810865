import { ferryError } from '@ferry/formats';
import { optimizeError } from '../errors.js';
import type { OnnxGraph, OnnxModel, OnnxTensor } from '../onnx-schema.js';
import { assertNotQuantized } from './already.js';
import { candidates } from './candidates.js';
import { QuantizeContext } from './context.js';
import { defaultOpset, graphNames, NameSet, setDefaultOpset } from './graph-data.js';
import {
  DYNAMIC_OPSET,
  MIN_QUANTIZE_OPSET,
  PER_AXIS_OPSET,
  type QuantizedNodeReport,
  type QuantizeOptions,
  type QuantizeResult,
} from './options.js';
import { emitQdq } from './qdq.js';
import { QUANTIZERS } from './registry.js';

/**
 * Int8 quantization as onnxruntime's quantize_dynamic / quantize_static define it
 * (onnxruntime/python/tools/quantization: onnx_quantizer.py, qdq_quantizer.py, operators/).
 * Weights are symmetric int8, per tensor or per output channel; activations are uint8,
 * quantized at run time by DynamicQuantizeLinear or, with `activationRanges`, with calibrated
 * fixed scales. Each op's form comes from its quantizer in registry.ts. Returns a new model;
 * the input is not changed.
 */
export function quantizeModel(input: OnnxModel, options: QuantizeOptions = {}): QuantizeResult {
  const path = options.path ?? '<model>';
  if (!input.graph) throw ferryError('FERRY_ONNX_NOT_MODEL', { path, reason: 'ModelProto has no graph' });
  const format = options.format ?? 'qoperator';
  if (options.activationRanges !== undefined && format !== 'qdq')
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
  const { chosen, skipped } = candidates(input, options);
  const byNode = new Map(chosen.map((c) => [c.node, c]));
  const ctx = new QuantizeContext(path, graph, new NameSet(graphNames(input)), options);
  const quantized: QuantizedNodeReport[] = [];

  for (const node of graph.node ?? []) {
    const c = byNode.get(node);
    if (!c) {
      ctx.nodes.push(node);
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
    if (format === 'qdq') emitQdq(c, perChannel, ctx);
    else QUANTIZERS[c.op].emitQOperator(c, perChannel, name, ctx);
  }

  // Float weights nobody reads any more are dropped (a weight shared with a float node stays).
  const used = new Set<string>();
  for (const n of ctx.nodes) for (const i of n.input ?? []) used.add(i);
  for (const o of graph.output ?? []) used.add(o.name ?? '');
  const keep = (t: OnnxTensor) => used.has(t.name ?? '');
  const replaced = new Set(chosen.map((c) => c.weight.name ?? ''));
  graph.initializer = [
    ...(graph.initializer ?? []).filter((t) => !replaced.has(t.name ?? '') || keep(t)),
    ...ctx.newInitializers,
  ];
  const initializerNames = new Set(graph.initializer.map((t) => t.name ?? ''));
  graph.input = (graph.input ?? []).filter(
    (i) => !replaced.has(i.name ?? '') || initializerNames.has(i.name ?? ''),
  );
  graph.node = ctx.nodes;
  return { model, quantized, skipped, ...(opsetRaised && { opsetRaised }) };
}
