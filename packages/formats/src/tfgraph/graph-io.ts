import { CHECKPOINT_OPS } from '../savedmodel/findings.js';
import type { TfAttrValue, TfGraphDef, TfNodeDef, TfShape } from '../savedmodel/types.js';

/** A graph tensor a frozen graph is fed or fetched by: `node:index`, as tf2onnx's --inputs/--outputs name it. */
export interface GraphTensor {
  readonly tensor: string;
  readonly node: string;
  readonly op: string;
  /** TensorFlow DataType number; 0 (DT_INVALID) when the node's attributes do not say. */
  readonly dtype: number;
  /** null when the rank is unknown. */
  readonly shape: TfShape | null;
}

/** Ops a frozen graph is fed through (array_ops.cc); PlaceholderWithDefault has a value of its own. */
export const PLACEHOLDER_OPS: ReadonlySet<string> = new Set(['Placeholder', 'PlaceholderV2']);

/**
 * Ops whose unconsumed nodes are no output: they produce nothing to fetch (NoOp, Assert, the
 * checkpoint ops), are inputs or leftover constants, or hold state a frozen graph no longer reads.
 */
const NOT_OUTPUTS: ReadonlySet<string> = new Set([
  'NoOp',
  'Assert',
  'Const',
  'Placeholder',
  'PlaceholderV2',
  'PlaceholderWithDefault',
  'VariableV2',
  'Variable',
  'VarHandleOp',
  'Assign',
  'AssignVariableOp',
  'SaveV2',
  ...CHECKPOINT_OPS,
]);

/** Output index from `node:3` (0 for `node`), and the node name. */
export function splitTensorName(tensor: string): { node: string; index: number } {
  const match = /^(.*):(\d+)$/.exec(tensor);
  return match ? { node: match[1]!, index: Number(match[2]) } : { node: tensor, index: 0 };
}

const typeAttr = (value: TfAttrValue | undefined): number | undefined =>
  value?.kind === 'type' ? value.value : undefined;

/**
 * The dtype of a node's output: a Placeholder's `dtype`, else the attribute most ops type their
 * output with (`T`, `out_type`, `DstT`, `output_type`), else 0.
 */
export function outputDtype(node: TfNodeDef): number {
  for (const name of ['dtype', 'T', 'out_type', 'DstT', 'output_type', 'Tout']) {
    const found = typeAttr(node.attr[name]);
    if (found !== undefined) return found;
  }
  return 0;
}

/** A node output's shape: a Placeholder's `shape` attribute, else `_output_shapes`, else unknown. */
export function outputShape(node: TfNodeDef, index: number): TfShape | null {
  const declared = node.attr.shape;
  if (declared?.kind === 'shape' && !declared.value.unknownRank) return declared.value;
  const recorded = node.attr._output_shapes;
  const shape = recorded?.kind === 'list' ? recorded.value.shape[index] : undefined;
  return shape && !shape.unknownRank ? shape : null;
}

export function graphTensor(node: TfNodeDef, index = 0): GraphTensor {
  return {
    tensor: `${node.name}:${index}`,
    node: node.name,
    op: node.op,
    dtype: outputDtype(node),
    shape: outputShape(node, index),
  };
}

/** Every Placeholder of the graph, in node order: what the graph is fed with. */
export function graphPlaceholders(graph: TfGraphDef): GraphTensor[] {
  return graph.nodes.filter((n) => PLACEHOLDER_OPS.has(n.op)).map((n) => graphTensor(n));
}

/**
 * The likely outputs: nodes no other node reads (by a data or a control edge), in node order,
 * without the ops that produce nothing worth fetching. A frozen graph is pruned to the outputs it
 * was frozen for (graph_util.convert_variables_to_constants -> extract_sub_graph), so its
 * unconsumed nodes are those outputs.
 */
export function graphLikelyOutputs(graph: TfGraphDef): GraphTensor[] {
  const consumed = new Set<string>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      consumed.add(splitTensorName(input.startsWith('^') ? input.slice(1) : input).node);
    }
  }
  return graph.nodes
    .filter((n) => !consumed.has(n.name) && !NOT_OUTPUTS.has(n.op))
    .map((n) => graphTensor(n));
}
