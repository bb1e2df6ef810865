import type { Converter, OpContext, Val } from '../context.js';
import { isFloatDtype, onnxDtypeOf, TF_BOOL } from '../dtypes.js';

const maxRank = (vals: readonly Val[]): number | null =>
  vals.every((v) => v.rank !== null) ? Math.max(...vals.map((v) => v.rank!)) : null;

/** TF and ONNX broadcast the same way (numpy rules), so binary ops map one to one. */
const binary =
  (onnxOp: string, outBool = false): Converter =>
  (c) => {
    const a = c.input(0);
    const b = c.input(1);
    return [c.val(c.b.op(onnxOp, [a.name, b.name], c.hint), outBool ? TF_BOOL : a.dtype, maxRank([a, b]))];
  };

const unary =
  (onnxOp: string, attrs?: (c: OpContext) => Record<string, { f: number } | number>): Converter =>
  (c) => {
    const x = c.input(0);
    return [c.val(c.b.op(onnxOp, [x.name], c.hint, attrs?.(c)), x.dtype, x.rank)];
  };

/** A chain of ONNX ops on one input, each fed the previous result. */
const composite =
  (build: (c: OpContext, x: Val) => string): Converter =>
  (c) => {
    const x = c.input(0);
    return [c.val(build(c, x), x.dtype, x.rank)];
  };

const floorDiv: Converter = (c) => {
  const a = c.input(0);
  const b = c.input(1);
  const rank = maxRank([a, b]);
  if (isFloatDtype(a.dtype)) {
    return [c.val(c.b.op('Floor', [c.b.op('Div', [a.name, b.name], c.hint)], c.hint), a.dtype, rank)];
  }
  // Integers: ONNX Div truncates; (a - floormod(a, b)) / b divides exactly and rounds toward -inf.
  const mod = c.b.op('Mod', [a.name, b.name], c.hint, { fmod: 0 });
  return [c.val(c.b.op('Div', [c.b.op('Sub', [a.name, mod], c.hint), b.name], c.hint), a.dtype, rank)];
};

const floorMod: Converter = (c) => {
  const a = c.input(0);
  const b = c.input(1);
  const rank = maxRank([a, b]);
  if (!isFloatDtype(a.dtype))
    return [c.val(c.b.op('Mod', [a.name, b.name], c.hint, { fmod: 0 }), a.dtype, rank)];
  // ONNX Mod needs fmod=1 for floats (C fmod); TF FloorMod takes the divisor's sign: a - floor(a/b)*b.
  const q = c.b.op('Floor', [c.b.op('Div', [a.name, b.name], c.hint)], c.hint);
  return [c.val(c.b.op('Sub', [a.name, c.b.op('Mul', [q, b.name], c.hint)], c.hint), a.dtype, rank)];
};

const biasAdd: Converter = (c) => {
  const x = c.input(0);
  const bias = c.input(1);
  const format = c.str('data_format', 'NHWC');
  if (format === 'NHWC' || format === 'NDHWC' || format === '') {
    return [c.val(c.b.op('Add', [x.name, bias.name], c.hint), x.dtype, x.rank)];
  }
  // NCHW: the bias runs along dim 1, so it is reshaped to [C, 1, ..., 1] to broadcast there.
  const rank = x.rank ?? c.outputRank();
  if (rank === null || rank < 2)
    c.fail(`NCHW BiasAdd needs an input of rank 2 or more (rank ${rank ?? 'unknown'})`);
  const shaped = c.b.op('Reshape', [bias.name, c.b.int64s([-1, ...Array(rank! - 2).fill(1)])], c.hint);
  return [c.val(c.b.op('Add', [x.name, shaped], c.hint), x.dtype, rank)];
};

const cast: Converter = (c) => {
  const x = c.input(0);
  const to = c.type('DstT');
  const onnx = onnxDtypeOf(to);
  if (onnx === undefined) c.unsupported(`cast to TensorFlow dtype ${to}`);
  return [c.val(c.b.op('Cast', [x.name], c.hint, { to: onnx! }), to, x.rank)];
};

/** Select's condition may be a vector choosing rows of higher-rank x/y (array_ops.cc); SelectV2 broadcasts. */
const select: Converter = (c) => {
  const cond = c.input(0);
  const x = c.input(1);
  const y = c.input(2);
  let condName = cond.name;
  if (c.node.op === 'Select' && cond.rank === 1 && x.rank !== null && x.rank > 1) {
    condName = c.b.op('Reshape', [cond.name, c.b.int64s([-1, ...Array(x.rank - 1).fill(1)])], c.hint);
  } else if (c.node.op === 'Select' && cond.rank === null && x.rank !== 1) {
    if (x.rank === null || x.rank > 1) c.fail('Select with a condition of unknown rank');
  }
  return [c.val(c.b.op('Where', [condName, x.name, y.name], c.hint), x.dtype, maxRank([cond, x, y]))];
};

const addN: Converter = (c) => {
  c.input(0);
  const names = c.inputs.map((v) => v.name);
  return [
    c.val(
      names.length === 1 ? c.b.op('Identity', names, c.hint) : c.b.op('Sum', names, c.hint),
      c.inputs[0]!.dtype,
      maxRank(c.inputs),
    ),
  ];
};

const clip = (c: OpContext, x: Val, lo: number, hi: number): string =>
  c.b.op('Clip', [x.name, c.b.scalar(x.dtype, lo), c.b.scalar(x.dtype, hi)], c.hint);

export const elementwiseOps: Readonly<Record<string, Converter>> = {
  Add: binary('Add'),
  AddV2: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  RealDiv: binary('Div'),
  Div: binary('Div'),
  DivNoNan: (c) => {
    const a = c.input(0);
    const b = c.input(1);
    const zero = c.b.scalar(b.dtype, 0);
    const isZero = c.b.op('Equal', [b.name, zero], c.hint);
    const q = c.b.op(
      'Div',
      [a.name, c.b.op('Where', [isZero, c.b.scalar(b.dtype, 1), b.name], c.hint)],
      c.hint,
    );
    return [c.val(c.b.op('Where', [isZero, zero, q], c.hint), a.dtype, maxRank([a, b]))];
  },
  FloorDiv: floorDiv,
  FloorMod: floorMod,
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  Pow: binary('Pow'),
  SquaredDifference: (c) => {
    const a = c.input(0);
    const d = c.b.op('Sub', [a.name, c.input(1).name], c.hint);
    return [c.val(c.b.op('Mul', [d, d], c.hint), a.dtype, maxRank([a, c.input(1)]))];
  },
  AddN: addN,
  BiasAdd: biasAdd,
  Equal: binary('Equal', true),
  NotEqual: (c) => {
    const [eq] = binary('Equal', true)(c);
    return [c.val(c.b.op('Not', [eq!.name], c.hint), TF_BOOL, eq!.rank)];
  },
  Greater: binary('Greater', true),
  GreaterEqual: binary('GreaterOrEqual', true),
  Less: binary('Less', true),
  LessEqual: binary('LessOrEqual', true),
  LogicalAnd: binary('And', true),
  LogicalOr: binary('Or', true),
  LogicalNot: unary('Not'),
  Neg: unary('Neg'),
  Abs: unary('Abs'),
  Sqrt: unary('Sqrt'),
  Rsqrt: composite((c, x) => c.b.op('Reciprocal', [c.b.op('Sqrt', [x.name], c.hint)], c.hint)),
  Reciprocal: unary('Reciprocal'),
  Inv: unary('Reciprocal'),
  Exp: unary('Exp'),
  Expm1: composite((c, x) =>
    c.b.op('Sub', [c.b.op('Exp', [x.name], c.hint), c.b.scalar(x.dtype, 1)], c.hint),
  ),
  Log: unary('Log'),
  Log1p: composite((c, x) =>
    c.b.op('Log', [c.b.op('Add', [x.name, c.b.scalar(x.dtype, 1)], c.hint)], c.hint),
  ),
  Erf: unary('Erf'),
  // Keras' exact gelu is x/2 * erfc(-x/sqrt2); ONNX has no Erfc: 1 - erf(x).
  Erfc: composite((c, x) => c.b.op('Sub', [c.b.scalar(x.dtype, 1), c.b.op('Erf', [x.name], c.hint)], c.hint)),
  Square: composite((c, x) => c.b.op('Mul', [x.name, x.name], c.hint)),
  Floor: unary('Floor'),
  Ceil: unary('Ceil'),
  // TF Round rounds half to even, as ONNX Round does.
  Round: unary('Round'),
  Sign: unary('Sign'),
  Sin: unary('Sin'),
  Cos: unary('Cos'),
  Tan: unary('Tan'),
  Tanh: unary('Tanh'),
  Sigmoid: unary('Sigmoid'),
  IsNan: (c) => [c.val(c.b.op('IsNaN', [c.input(0).name], c.hint), TF_BOOL, c.input(0).rank)],
  Relu: unary('Relu'),
  Relu6: composite((c, x) => clip(c, x, 0, 6)),
  Elu: unary('Elu'),
  // TF's Selu constants are ONNX Selu's defaults (alpha 1.67326..., gamma 1.0507...).
  Selu: unary('Selu'),
  LeakyRelu: unary('LeakyRelu', (c) => ({ alpha: { f: c.float('alpha', 0.2) } })),
  Softplus: unary('Softplus'),
  Softsign: unary('Softsign'),
  // TF Softmax and LogSoftmax work on the last axis; ONNX opset 13 takes axis -1 the same way.
  Softmax: unary('Softmax', () => ({ axis: -1 })),
  LogSoftmax: unary('LogSoftmax', () => ({ axis: -1 })),
  ClipByValue: (c) => {
    const x = c.input(0);
    const lo = c.b.op('Max', [x.name, c.input(1).name], c.hint);
    return [c.val(c.b.op('Min', [lo, c.input(2).name], c.hint), x.dtype, x.rank)];
  },
  Cast: cast,
  Select: select,
  SelectV2: select,
};
