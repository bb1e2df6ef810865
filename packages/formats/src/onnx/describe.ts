import type { TensorSpec } from '../model.js';
import { dtypeFromOnnx } from '../tensor/dtype.js';
import type { OnnxGraph, OnnxModel, OnnxNode, OnnxTensorShape, OnnxType, OnnxValueInfo } from './schema.js';
import { onnxTypeName } from './tensors.js';

/** A type's name: ferry's dtype for tensors where one exists, else ONNX's own (`STRING`, `seq(FLOAT)`). */
export function typeName(type: OnnxType | undefined): string {
  if (!type) return 'UNDEFINED';
  if (type.tensor_type) return elemName(type.tensor_type.elem_type);
  if (type.sparse_tensor_type) return `sparse_tensor(${elemName(type.sparse_tensor_type.elem_type)})`;
  if (type.sequence_type) return `seq(${typeName(type.sequence_type.elem_type)})`;
  if (type.optional_type) return `optional(${typeName(type.optional_type.elem_type)})`;
  if (type.map_type) return `map(${elemName(type.map_type.key_type)}, ${typeName(type.map_type.value_type)})`;
  return 'UNDEFINED';
}

function elemName(code: number | undefined): string {
  return dtypeFromOnnx(code ?? 0) ?? onnxTypeName(code);
}

/** Dims: numbers, symbolic names (dim_param) as strings, -1 where neither is given. */
export function shapeOf(shape: OnnxTensorShape | undefined): (number | string)[] | null {
  if (!shape) return null;
  return (shape.dim ?? []).map((d) => {
    if (d.dim_value !== undefined) return Number(d.dim_value);
    if (d.dim_param !== undefined && d.dim_param !== '') return d.dim_param;
    return -1;
  });
}

export function valueSpec(info: OnnxValueInfo): TensorSpec {
  const type = info.type;
  const tensor = type?.tensor_type ?? type?.sparse_tensor_type;
  return { name: info.name ?? '', dtype: typeName(type), shape: tensor ? shapeOf(tensor.shape) : null };
}

/** Graph inputs that are real inputs: before IR 4 every initializer was also listed as an input. */
export function graphInputs(graph: OnnxGraph): TensorSpec[] {
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  return (graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map(valueSpec);
}

/** Op types over the main graph and every subgraph, keyed `domain::op` outside the default domain. */
export function opHistogram(graph: OnnxGraph): Record<string, number> {
  const counts = new Map<string, number>();
  const visit = (nodes: readonly OnnxNode[]) => {
    for (const node of nodes) {
      const domain = node.domain ?? '';
      const key =
        domain === '' || domain === 'ai.onnx' ? (node.op_type ?? '') : `${domain}::${node.op_type ?? ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      for (const attr of node.attribute ?? []) {
        if (attr.g) visit(attr.g.node ?? []);
        for (const g of attr.graphs ?? []) visit(g.node ?? []);
      }
    }
  };
  visit(graph.node ?? []);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

export function countNodes(graph: OnnxGraph): number {
  let count = 0;
  const visit = (g: OnnxGraph) => {
    for (const node of g.node ?? []) {
      count++;
      for (const attr of node.attribute ?? []) {
        if (attr.g) visit(attr.g);
        for (const sub of attr.graphs ?? []) visit(sub);
      }
    }
  };
  visit(graph);
  return count;
}

/** Opset imports as `{domain: version}`; the default domain is shown as `ai.onnx`. */
export function opsetImports(model: OnnxModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const opset of model.opset_import ?? []) out[opset.domain || 'ai.onnx'] = Number(opset.version ?? 0n);
  return out;
}
