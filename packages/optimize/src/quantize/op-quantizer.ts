import type { OnnxNode, OnnxTensor } from '../onnx-schema.js';
import type { QuantizeContext } from './context.js';
import type { QuantizableOp } from './options.js';

/** A node chosen for quantization, with what its op's quantizer decided about its weight. */
export interface Candidate {
  readonly node: OnnxNode;
  readonly op: QuantizableOp;
  readonly weight: OnnxTensor;
  /** The input index that holds the weight. */
  readonly weightInput: number;
  /** Per-channel axis of the weight as stored. */
  readonly channelAxis: number;
  /** Whether per-channel scales fit this node (a Gather other than rows of a 2-D table does not). */
  readonly perChannelOk: boolean;
  /** The integer op wants the weight as [K, N] and the node stores it transposed (Gemm transB). */
  readonly transposedWeight: boolean;
}

/** What an op's quantizer decides about one node whose weight passed the shared checks. */
export type Selection =
  | { readonly skip: string }
  | { readonly channelAxis: number; readonly perChannelOk: boolean; readonly transposedWeight?: boolean };

/** What a quantizer needs to know about the graph while selecting. */
export interface SelectionGraph {
  /** The float32 initializer a name refers to (not a graph input that overrides it), if any. */
  constant(name: string | undefined): OnnxTensor | undefined;
}

/**
 * One op's int8 quantization (onnxruntime's quantization/operators/*.py, chosen from a table as
 * in quantization/registry.py). The QDQ form is the same for every op (registry: QDQ wraps the
 * node's float inputs); the QOperator form is the op's own.
 */
export interface OpQuantizer {
  /** The input that holds the weight (Gather's table is input 0, every other op's weight input 1). */
  readonly weightInput: number;
  /** Whether the node's activation (input 0) is quantized too (Gather looks rows up, it does not). */
  readonly quantizesActivation: boolean;
  select(node: OnnxNode, weight: OnnxTensor, graph: SelectionGraph): Selection;
  /** Writes the QOperator form of the node into `ctx`. */
  emitQOperator(c: Candidate, perChannel: boolean, name: string, ctx: QuantizeContext): void;
}
