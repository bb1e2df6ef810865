import type { OpQuantizer } from '../op-quantizer.js';
import { emitIntegerOp } from './integer.js';

/** MatMul (onnxruntime operators/matmul.py): MatMulInteger on [K, N] weights, no bias. */
export const matMulQuantizer: OpQuantizer = {
  weightInput: 1,
  quantizesActivation: true,
  select(node, weight, graph) {
    const rank = weight.dims?.length ?? 0;
    // MatMulInteger follows numpy matmul, so a stacked [..., K, N] weight works; 1-D does not.
    if (rank < 2) return { skip: `weight ${weight.name} has rank ${rank}, fewer than 2` };
    if (graph.constant(node.input?.[0]))
      return { skip: 'both inputs are initializers (constant folding, not quantization, applies)' };
    // onnxruntime's fused DynamicQuantizeMatMul takes per-column parameters of 2-D weights only.
    return { channelAxis: rank - 1, perChannelOk: rank === 2 };
  },
  emitQOperator: (c, perChannel, name, ctx) =>
    emitIntegerOp(c, perChannel, name, ctx, { integerOp: 'MatMulInteger' }),
};
