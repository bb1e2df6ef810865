import type { Converter } from '../context.js';
import { onnxDtypeOf, TF_DOUBLE, TF_FLOAT, TF_HALF } from '../dtypes.js';
import { int64Of } from './shape.js';

/**
 * TensorFlow's RandomUniform and RandomStandardNormal (random_ops.cc) draw a tensor whose shape is
 * an input; ONNX's RandomUniform/RandomNormal take the shape as an attribute, so the *Like forms
 * copy it from a zero tensor of that shape (ConstantOfShape), which also serves shapes computed at
 * run time (tf2onnx does the same). Seeds are not carried: TensorFlow's (seed, seed2) stream and
 * ONNX Runtime's generator differ anyway, so a fixed seed could not give TensorFlow's numbers.
 * Frozen TF1 graphs keep dropout's RandomUniform: fed keep_prob 1, floor(keep_prob + U[0,1)) is 1.
 */
const random =
  (onnxOp: string): Converter =>
  (c) => {
    const dtype = c.type('dtype');
    const elemType = onnxDtypeOf(dtype);
    // ONNX defines the random ops for floating types only (RandomUniformLike-1: float16/32/64)
    if (dtype !== TF_FLOAT && dtype !== TF_DOUBLE && dtype !== TF_HALF)
      c.unsupported(`${c.node.op} of dtype ${dtype}: ONNX draws floats only`);
    const shape = c.input(0);
    const zeros = c.b.op('ConstantOfShape', [int64Of(c, shape)], c.hint);
    const rank = shape.konst ? (shape.konst.dims[0] ?? 0) : null;
    return [c.val(c.b.op(onnxOp, [zeros], c.hint, { dtype: elemType! }), dtype, rank)];
  };

export const randomOps: Record<string, Converter> = {
  RandomUniform: random('RandomUniformLike'),
  RandomStandardNormal: random('RandomNormalLike'),
};
