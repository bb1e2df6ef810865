import type { Converter, OpContext, Val } from '../context.js';
import { onnxDtypeOf, TF_BOOL, TF_INT32, TF_INT64 } from '../dtypes.js';

/**
 * TF reductions take the axes as an input tensor; ONNX opset 13 takes them as an attribute
 * (ReduceSum alone as an input), so they must be constants. No axes means no reduction in TF,
 * but "all axes" in ONNX: that case is an Identity.
 */
const reduceWith = (c: OpContext, onnxOp: string, x: Val, axesAsInput: boolean): string => {
  const axes = c.constInts(1, 'reduction axes');
  const keepdims = c.bool('keep_dims') ? 1 : 0;
  if (axes.length === 0) return c.b.op('Identity', [x.name], c.hint);
  if (axesAsInput) return c.b.op(onnxOp, [x.name, c.b.int64s(axes)], c.hint, { keepdims });
  return c.b.op(onnxOp, [x.name], c.hint, { axes, keepdims });
};

const reducedRank = (c: OpContext, x: Val): number | null => {
  if (c.bool('keep_dims')) return x.rank;
  const axes = c.inputs[1]?.konst ? c.constInts(1, 'axes') : null;
  return x.rank !== null && axes ? x.rank - new Set(axes).size : null;
};

const reduce =
  (onnxOp: string, axesAsInput = false): Converter =>
  (c) => {
    const x = c.input(0);
    return [c.val(reduceWith(c, onnxOp, x, axesAsInput), x.dtype, reducedRank(c, x))];
  };

/** All/Any: ONNX reductions take no bools, so the values go through int32 and back. */
const logical =
  (onnxOp: string): Converter =>
  (c) => {
    const x = c.input(0);
    const asInt = c.b.op('Cast', [x.name], c.hint, { to: onnxDtypeOf(TF_INT32)! });
    const r = reduceWith(c, onnxOp, { ...x, name: asInt }, false);
    return [c.val(c.b.op('Cast', [r], c.hint, { to: onnxDtypeOf(TF_BOOL)! }), TF_BOOL, reducedRank(c, x))];
  };

const arg =
  (onnxOp: string): Converter =>
  (c) => {
    const x = c.input(0);
    const axis = c.constInt(1, 'dimension');
    const outType = c.type('output_type', TF_INT64);
    const r = c.b.op(onnxOp, [x.name], c.hint, { axis: axis, keepdims: 0 });
    const out = outType === TF_INT64 ? r : c.b.op('Cast', [r], c.hint, { to: onnxDtypeOf(outType)! });
    return [c.val(out, outType, x.rank === null ? null : x.rank - 1)];
  };

export const reduceOps: Readonly<Record<string, Converter>> = {
  Sum: reduce('ReduceSum', true),
  Mean: reduce('ReduceMean'),
  Max: reduce('ReduceMax'),
  Min: reduce('ReduceMin'),
  Prod: reduce('ReduceProd'),
  All: logical('ReduceMin'),
  Any: logical('ReduceMax'),
  ArgMax: arg('ArgMax'),
  ArgMin: arg('ArgMin'),
};
