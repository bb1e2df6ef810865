import { floatAttr, intAttr, makeNode, makeTensor, ONNX_FLOAT } from '../graph-data.js';
import type { OpQuantizer } from '../op-quantizer.js';
import { emitIntegerOp } from './integer.js';

/**
 * Gemm (onnxruntime operators/gemm.py): MatMulInteger on the [K, N] weight (transB undone on
 * the weight, transA by a Transpose of the activation), alpha folded into the scale, beta * C added.
 */
export const gemmQuantizer: OpQuantizer = {
  weightInput: 1,
  quantizesActivation: true,
  select(node, weight) {
    const rank = weight.dims?.length ?? 0;
    if (rank !== 2) return { skip: `weight ${weight.name} has rank ${rank}, not 2` };
    const transB = intAttr(node, 'transB', 0) === 1;
    return { channelAxis: transB ? 0 : 1, perChannelOk: true, transposedWeight: transB };
  },
  emitQOperator: (c, perChannel, name, ctx) =>
    emitIntegerOp(c, perChannel, name, ctx, {
      integerOp: 'MatMulInteger',
      activation(c, name, { names, nodes }) {
        const a = c.node.input![0]!;
        if (intAttr(c.node, 'transA', 0) !== 1) return a;
        // MatMulInteger has no transA: transpose the activation first (Gemm's A is 2-D).
        const transposed = names.fresh(`${a}_transposed`);
        nodes.push(makeNode('Transpose', [a], [transposed], names.fresh(`${name}_transA`)));
        return transposed;
      },
      alpha: (c) => floatAttr(c.node, 'alpha', 1),
      bias(c, name, { names, nodes, newInitializers }) {
        const cName = c.node.input?.[2];
        if (!cName) return undefined;
        const beta = floatAttr(c.node, 'beta', 1);
        if (beta === 1) return cName;
        const betaName = names.fresh(`${name}_beta`);
        newInitializers.push(makeTensor(betaName, ONNX_FLOAT, [], Float32Array.of(beta)));
        const scaled = names.fresh(`${cName}_scaled`);
        nodes.push(makeNode('Mul', [cName, betaName], [scaled], names.fresh(`${name}_beta_mul`)));
        return scaled;
      },
    }),
};
