import type { OnnxAttribute } from '../../onnx-schema.js';
import type { QuantizeContext, QuantizedInitializer } from '../context.js';
import { intAttribute, makeNode, makeTensor, ONNX_FLOAT } from '../graph-data.js';
import type { Candidate } from '../op-quantizer.js';

/**
 * How one op differs in the shared QOperator form of onnxruntime's dynamic quantization
 * (operators/matmul.py, gemm.py, conv.py): quantize the activation, run the integer op on int8
 * weights, Cast to float, multiply by activation scale × weight scale, then add any bias.
 */
export interface IntegerForm {
  readonly integerOp: 'MatMulInteger' | 'ConvInteger';
  /** The activation the integer op reads (Gemm's transA transposes it first). */
  activation?(c: Candidate, name: string, ctx: QuantizeContext): string;
  /** Attributes the integer op keeps (ConvInteger: Conv's, less a fused activation). */
  attributes?(c: Candidate): OnnxAttribute[];
  /** A factor folded into the weight scale (Gemm's alpha). */
  alpha?(c: Candidate): number;
  /** Trailing size-1 dims that make per-channel scales broadcast over NCHW (Conv). */
  spatial?(w: QuantizedInitializer): number;
  /** The float bias added after scaling (Gemm's beta * C, Conv's B reshaped), if any. */
  bias?(c: Candidate, name: string, ctx: QuantizeContext): string | undefined;
}

export function emitIntegerOp(
  c: Candidate,
  perChannel: boolean,
  name: string,
  ctx: QuantizeContext,
  form: IntegerForm,
): void {
  const { names, nodes } = ctx;
  const out = c.node.output![0]!;
  const a = form.activation ? form.activation(c, name, ctx) : c.node.input![0]!;
  const x = ctx.activation(a, false);
  const w = ctx.weight(c, 'kn', perChannel);
  const integer = names.fresh(`${out}_output_quantized`);
  nodes.push(
    makeNode(
      form.integerOp,
      [x.q, w.q, x.zp, ctx.zeroScalar(w)],
      [integer],
      names.fresh(`${name}_quant`),
      form.attributes?.(c) ?? [],
    ),
  );
  const asFloat = names.fresh(`${integer}_cast`);
  nodes.push(
    makeNode('Cast', [integer], [asFloat], names.fresh(`${name}_cast`), [intAttribute('to', ONNX_FLOAT)]),
  );
  // Output scale = activation scale * weight scale (* Gemm's alpha), shaped to broadcast.
  const alpha = form.alpha?.(c) ?? 1;
  const spatial = form.spatial?.(w) ?? 0;
  let wScale = w.scale;
  if (alpha !== 1 || (perChannel && spatial > 0)) {
    wScale = names.fresh(`${name}_weight_scale`);
    const scaled = w.w.scales.map((s) => s * alpha);
    const dims = perChannel ? [scaled.length, ...new Array(spatial).fill(1)] : [];
    ctx.newInitializers.push(makeTensor(wScale, ONNX_FLOAT, dims, scaled));
  }
  const scale = names.fresh(`${name}_scale`);
  nodes.push(makeNode('Mul', [x.scale, wScale], [scale], names.fresh(`${name}_scale_mul`)));
  const bias = form.bias?.(c, name, ctx);
  const scaledOut = bias ? names.fresh(`${out}_unbiased`) : out;
  nodes.push(makeNode('Mul', [asFloat, scale], [scaledOut], names.fresh(`${name}_output_scale_mul`)));
  if (bias) nodes.push(makeNode('Add', [scaledOut, bias], [out], names.fresh(`${name}_bias_add`)));
}
