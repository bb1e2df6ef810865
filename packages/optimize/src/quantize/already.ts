import type { OnnxGraph, OnnxModel } from '../onnx-schema.js';
import { optimizeError } from '../errors.js';

/** Operators that only appear in a model that has been quantized already (ai.onnx and com.microsoft). */
const QUANTIZED_OPS = new Set([
  'QuantizeLinear',
  'DequantizeLinear',
  'DynamicQuantizeLinear',
  'MatMulInteger',
  'ConvInteger',
  'QLinearConv',
  'QLinearMatMul',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
  'QGemm',
  'QAttention',
  'DynamicQuantizeLSTM',
  'QLinearAdd',
  'QLinearMul',
  'MatMulNBits',
]);

/** Refuses a model that already holds quantization nodes, naming the first (subgraphs included). */
export function assertNotQuantized(model: OnnxModel, path: string): void {
  const visit = (graph: OnnxGraph) => {
    for (const node of graph.node ?? []) {
      const op = node.op_type ?? '';
      if (QUANTIZED_OPS.has(op) || (node.domain === 'com.microsoft' && op.startsWith('QLinear')))
        throw optimizeError('FERRY_QUANTIZE_ALREADY', {
          path,
          node: node.name || (node.output ?? [])[0] || '?',
          op,
        });
      for (const a of node.attribute ?? []) {
        if (a.g) visit(a.g);
        for (const g of a.graphs ?? []) visit(g);
      }
    }
  };
  if (model.graph) visit(model.graph);
}
