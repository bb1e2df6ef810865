import type { OnnxModel } from '../onnx-schema.js';
import { ONNX_FLOAT } from './graph-data.js';
import type { Candidate } from './op-quantizer.js';
import {
  DEFAULT_MIN_WEIGHT_ELEMENTS,
  type QuantizableOp,
  type QuantizeOptions,
  type QuantizeResult,
} from './options.js';
import { QUANTIZERS } from './registry.js';

/**
 * Which nodes would be quantized, and why the others are not. Shared by the transform and by
 * calibration (which needs the activations feeding the chosen nodes).
 */
export function candidates(
  model: OnnxModel,
  options: QuantizeOptions,
): { chosen: Candidate[]; skipped: QuantizeResult['skipped'] } {
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
    const quantizer = QUANTIZERS[op as QuantizableOp];
    if (!ops.has(op) || !quantizer || (node.domain ?? '') !== '') continue;
    const name = node.name || (node.output ?? [])[0] || op;
    const skip = (reason: string) => skipped.push({ node: name, op, reason });
    const { weightInput } = quantizer;
    const weight = constant(node.input?.[weightInput]);
    if (!weight) {
      skip(`input ${weightInput} is not a float32 initializer`);
      continue;
    }
    const elements = (weight.dims ?? []).reduce((a, d) => a * Number(d), 1);
    if (elements < min) {
      skip(`weight ${weight.name} has ${elements} elements, fewer than ${min}`);
      continue;
    }
    const selection = quantizer.select(node, weight, { constant });
    if ('skip' in selection) {
      skip(selection.skip);
      continue;
    }
    chosen.push({
      node,
      op: op as QuantizableOp,
      weight,
      weightInput,
      channelAxis: selection.channelAxis,
      perChannelOk: selection.perChannelOk,
      transposedWeight: selection.transposedWeight ?? false,
    });
  }
  return { chosen, skipped };
}

/** The float activations that static quantization quantizes: the calibration targets. */
export function activationsToCalibrate(model: OnnxModel, options: QuantizeOptions = {}): string[] {
  const { chosen } = candidates(model, options);
  const names = new Set<string>();
  for (const c of chosen) if (QUANTIZERS[c.op].quantizesActivation) names.add(c.node.input![0]!);
  return [...names];
}
