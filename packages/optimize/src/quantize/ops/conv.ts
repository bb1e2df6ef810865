import { floatValues, makeTensor, ONNX_FLOAT } from '../graph-data.js';
import type { OpQuantizer } from '../op-quantizer.js';
import { emitIntegerOp } from './integer.js';

/**
 * Conv (onnxruntime operators/conv.py): ConvInteger with Conv's attributes, per-channel scales
 * and the bias shaped [M, 1, 1...] to broadcast over NCHW.
 */
export const convQuantizer: OpQuantizer = {
  weightInput: 1,
  quantizesActivation: true,
  select(node, weight, graph) {
    const rank = weight.dims?.length ?? 0;
    if (rank < 3) return { skip: `weight ${weight.name} has rank ${rank}` };
    const bias = node.input?.[2];
    if (bias && !graph.constant(bias)) return { skip: 'bias is not a float32 initializer' };
    return { channelAxis: 0, perChannelOk: true };
  },
  emitQOperator: (c, perChannel, name, ctx) =>
    emitIntegerOp(c, perChannel, name, ctx, {
      integerOp: 'ConvInteger',
      attributes: (c) => (c.node.attribute ?? []).filter((a) => a.name !== 'activation'),
      spatial: (w) => w.dims.length - 2,
      bias(c, _name, { graph, names, newInitializers, path }) {
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
      },
    }),
};
