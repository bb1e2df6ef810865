import type { QuantizeContext } from './context.js';
import { intAttribute, makeNode } from './graph-data.js';
import type { Candidate } from './op-quantizer.js';
import { QUANTIZERS } from './registry.js';

/**
 * The QDQ form (onnxruntime qdq_quantizer.py), the same for every op: the node stays as it was,
 * reading its weight (and its activation, where the op quantizes one) through DequantizeLinear.
 */
export function emitQdq(c: Candidate, perChannel: boolean, ctx: QuantizeContext): void {
  const { names, nodes } = ctx;
  const w = ctx.weight(c, 'stored', perChannel);
  if (!w.dq) {
    w.dq = names.fresh(`${c.weight.name}_dequantized`);
    const attrs = perChannel ? [intAttribute('axis', c.channelAxis)] : [];
    nodes.push(
      makeNode(
        'DequantizeLinear',
        [w.q, w.scale, w.zp],
        [w.dq],
        names.fresh(`${c.weight.name}_DequantizeLinear`),
        attrs,
      ),
    );
  }
  const inputs = [...(c.node.input ?? [])];
  inputs[c.weightInput] = w.dq;
  if (QUANTIZERS[c.op].quantizesActivation) inputs[0] = ctx.activation(inputs[0]!, true).dq!;
  nodes.push({ ...c.node, input: inputs });
}
