import { intAttr, intAttribute, makeNode } from '../graph-data.js';
import type { OpQuantizer } from '../op-quantizer.js';

/**
 * Gather (onnxruntime operators/gather.py): the table is stored int8 and the gathered rows are
 * dequantized; the indices are not an activation to quantize.
 */
export const gatherQuantizer: OpQuantizer = {
  weightInput: 0,
  quantizesActivation: false,
  select(node, weight) {
    const rank = weight.dims?.length ?? 0;
    // Per-channel scales follow the gathered rows only for row lookups in a 2-D table.
    return { channelAxis: 1, perChannelOk: rank === 2 && intAttr(node, 'axis', 0) === 0 };
  },
  emitQOperator(c, perChannel, name, ctx) {
    const { names, nodes } = ctx;
    const out = c.node.output![0]!;
    const w = ctx.weight(c, 'stored', perChannel);
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
  },
};
