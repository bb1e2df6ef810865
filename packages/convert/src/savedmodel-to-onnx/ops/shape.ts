import type { Converter, OpContext, Val } from '../context.js';
import { onnxDtypeOf, readInts, TF_INT32, TF_INT64 } from '../dtypes.js';

/** Slice bounds meaning "to the end"; ONNX clamps them to the dimension (Slice-13). */
const END = Number.MAX_SAFE_INTEGER;

/** An integer tensor as int64, which ONNX shape inputs require (TF uses int32 for most). */
export function int64Of(c: OpContext, v: Val): string {
  if (v.konst) return c.b.int64s(readInts(v.konst.dtype, v.konst.bytes), v.konst.dims.length === 0);
  if (v.dtype === TF_INT64) return v.name;
  return c.b.op('Cast', [v.name], c.hint, { to: onnxDtypeOf(TF_INT64)! });
}

const castTo = (c: OpContext, name: string, tfType: number): string =>
  tfType === TF_INT64 ? name : c.b.op('Cast', [name], c.hint, { to: onnxDtypeOf(tfType)! });

const reshape: Converter = (c) => {
  const x = c.input(0);
  const shape = c.input(1);
  const rank = shape.konst ? (shape.konst.dims[0] ?? 0) : null;
  // TF's 0 is a zero-size dim; ONNX reads 0 as "copy the input's dim" unless allowzero (opset 14).
  return [c.val(c.b.op('Reshape', [x.name, int64Of(c, shape)], c.hint, { allowzero: 1 }), x.dtype, rank)];
};

const squeeze: Converter = (c) => {
  const x = c.input(0);
  const axes = c.ints('squeeze_dims');
  const inputs = axes.length > 0 ? [x.name, c.b.int64s(axes)] : [x.name];
  const rank = x.rank !== null && axes.length > 0 ? x.rank - axes.length : null;
  return [c.val(c.b.op('Squeeze', inputs, c.hint), x.dtype, rank)];
};

const expandDims: Converter = (c) => {
  const x = c.input(0);
  const axes = c.constInts(1, 'axis');
  return [
    c.val(
      c.b.op('Unsqueeze', [x.name, c.b.int64s(axes)], c.hint),
      x.dtype,
      x.rank === null ? null : x.rank + 1,
    ),
  ];
};

const transpose: Converter = (c) => {
  const x = c.input(0);
  const perm = c.constInts(1, 'permutation');
  return [c.val(c.b.op('Transpose', [x.name], c.hint, { perm }), x.dtype, perm.length)];
};

const shape: Converter = (c) => {
  const out = c.type('out_type', TF_INT32);
  return [c.val(castTo(c, c.b.op('Shape', [c.input(0).name], c.hint), out), out, 1)];
};

const size: Converter = (c) => {
  const out = c.type('out_type', TF_INT32);
  return [c.val(castTo(c, c.b.op('Size', [c.input(0).name], c.hint), out), out, 0)];
};

const rank: Converter = (c) => {
  const x = c.input(0);
  const r = c.b.op('Size', [c.b.op('Shape', [x.name], c.hint)], c.hint);
  return [c.val(castTo(c, r, TF_INT32), TF_INT32, 0)];
};

const fill: Converter = (c) => {
  const value = c.input(1);
  const dims = c.input(0);
  const r = dims.konst ? (dims.konst.dims[0] ?? 0) : null;
  return [c.val(c.b.op('Expand', [value.name, int64Of(c, dims)], c.hint), value.dtype, r)];
};

const likeOf =
  (value: number): Converter =>
  (c) => {
    const x = c.input(0);
    const s = c.b.op('Shape', [x.name], c.hint);
    return [c.val(c.b.op('Expand', [c.b.scalar(x.dtype, value), s], c.hint), x.dtype, x.rank)];
  };

const range: Converter = (c) => {
  const [start, limit, delta] = [0, 1, 2].map((i) => c.input(i));
  return [c.val(c.b.op('Range', [start!.name, limit!.name, delta!.name], c.hint), start!.dtype, 1)];
};

const tile: Converter = (c) => {
  const x = c.input(0);
  return [c.val(c.b.op('Tile', [x.name, int64Of(c, c.input(1))], c.hint), x.dtype, x.rank)];
};

/** TF paddings are [rank, 2] (before, after per dim); ONNX pads are all befores then all afters. */
const pad =
  (mode: 'constant' | 'mirror'): Converter =>
  (c) => {
    const x = c.input(0);
    const p = c.input(1);
    let pads: string;
    if (p.konst) {
      const v = readInts(p.konst.dtype, p.konst.bytes);
      pads = c.b.int64s([...v.filter((_, i) => i % 2 === 0), ...v.filter((_, i) => i % 2 === 1)]);
    } else {
      const t = c.b.op('Transpose', [int64Of(c, p)], c.hint, { perm: [1, 0] });
      pads = c.b.op('Reshape', [t, c.b.int64s([-1])], c.hint);
    }
    let onnxMode = 'constant';
    const inputs = [x.name, pads];
    if (mode === 'mirror') {
      const m = c.str('mode');
      // ONNX reflect excludes the edge, as TF REFLECT does; SYMMETRIC (edge repeated) has no ONNX mode.
      if (m !== 'REFLECT') c.unsupported(`MirrorPad mode ${m}`);
      onnxMode = 'reflect';
    } else if (c.inputs.length > 2) {
      inputs.push(c.input(2).name);
    }
    return [c.val(c.b.op('Pad', inputs, c.hint, { mode: onnxMode }), x.dtype, x.rank)];
  };

const concat =
  (axisFirst: boolean): Converter =>
  (c) => {
    const values = axisFirst ? c.inputs.slice(1) : c.inputs.slice(0, -1);
    const axis = c.constInt(axisFirst ? 0 : c.inputs.length - 1, 'axis');
    const first = values[0];
    if (!first) c.fail('nothing to concatenate');
    return [
      c.val(
        c.b.op(
          'Concat',
          values.map((v) => v.name),
          c.hint,
          { axis: axis },
        ),
        first!.dtype,
        first!.rank,
      ),
    ];
  };

const pack: Converter = (c) => {
  const axis = c.int('axis', 0);
  const axes = c.b.int64s([axis]);
  const parts = c.inputs.map((v) => c.b.op('Unsqueeze', [v.name, axes], c.hint));
  const first = c.input(0);
  const r = first.rank === null ? null : first.rank + 1;
  const out = parts.length === 1 ? parts[0]! : c.b.op('Concat', parts, c.hint, { axis });
  return [c.val(out, first.dtype, r)];
};

const unpack: Converter = (c) => {
  const x = c.input(0);
  const num = c.int('num');
  const axis = c.int('axis', 0);
  const r = x.rank === null ? null : x.rank - 1;
  const parts = num === 1 ? [x.name] : c.b.add('Split', [x.name], c.hint, { axis }, num);
  const axes = c.b.int64s([axis]);
  return parts.map((p, i) => c.val(c.b.op('Squeeze', [p, axes], c.hint), x.dtype, r, i));
};

const split: Converter = (c) => {
  const axis = c.constInt(0, 'split_dim');
  const x = c.input(1);
  const num = c.int('num_split');
  const parts =
    num === 1
      ? [c.b.op('Identity', [x.name], c.hint)]
      : c.b.add('Split', [x.name], c.hint, { axis: axis }, num);
  return parts.map((p, i) => c.val(p, x.dtype, x.rank, i));
};

const splitV: Converter = (c) => {
  const x = c.input(0);
  const sizes = c.constInts(1, 'size_splits');
  const axis = c.constInt(2, 'axis');
  let splits: string = c.b.int64s(sizes);
  const unknown = sizes.indexOf(-1);
  if (unknown >= 0) {
    // The -1 part is whatever the others leave of the dimension; read at run time when not static.
    const known = sizes.filter((s) => s !== -1).reduce((a, b) => a + b, 0);
    const dim = x.konst?.dims.at(axis);
    if (dim !== undefined) {
      sizes[unknown] = dim - known;
      splits = c.b.int64s(sizes);
    } else {
      const shape = c.b.op('Shape', [x.name], c.hint);
      const d = c.b.op(
        'Slice',
        [shape, c.b.int64s([axis]), c.b.int64s([axis === -1 ? END : axis + 1])],
        c.hint,
      );
      const rest = c.b.op('Sub', [d, c.b.int64s([known])], c.hint);
      const pieces = [
        ...(unknown > 0 ? [c.b.int64s(sizes.slice(0, unknown))] : []),
        rest,
        ...(unknown < sizes.length - 1 ? [c.b.int64s(sizes.slice(unknown + 1))] : []),
      ];
      splits = pieces.length === 1 ? rest : c.b.op('Concat', pieces, c.hint, { axis: 0 });
    }
  }
  const parts =
    sizes.length === 1
      ? [c.b.op('Identity', [x.name], c.hint)]
      : c.b.add('Split', [x.name, splits], c.hint, { axis: axis }, sizes.length);
  return parts.map((p, i) => c.val(p, x.dtype, x.rank, i));
};

/** Slice(x, begin, size): size -1 means "to the end" (array_ops.cc); ends = begin + size otherwise. */
const slice: Converter = (c) => {
  const x = c.input(0);
  const begin = c.input(1);
  const sizeV = c.input(2);
  let ends: string;
  if (begin.konst && sizeV.konst) {
    const b = readInts(begin.konst.dtype, begin.konst.bytes);
    const s = readInts(sizeV.konst.dtype, sizeV.konst.bytes);
    ends = c.b.int64s(b.map((v, i) => (s[i] === -1 ? END : v + s[i]!)));
  } else {
    const b = int64Of(c, begin);
    const s = int64Of(c, sizeV);
    const toEnd = c.b.op('Equal', [s, c.b.int64s([-1], true)], c.hint);
    ends = c.b.op('Where', [toEnd, c.b.int64s([END], true), c.b.op('Add', [b, s], c.hint)], c.hint);
  }
  return [c.val(c.b.op('Slice', [x.name, int64Of(c, begin), ends], c.hint), x.dtype, x.rank)];
};

const bit = (mask: number, i: number): boolean => ((mask >> i) & 1) === 1;

/**
 * StridedSlice with its five masks (array_ops.cc, ValidateStridedSliceOp): one ONNX Slice over the
 * dims the spec touches, a Squeeze for shrink_axis dims, an Unsqueeze for new_axis dims (their
 * positions counted in the final output). An ellipsis needs the input's rank.
 */
const stridedSlice: Converter = (c) => {
  const x = c.input(0);
  const begin = c.constInts(1, 'begin');
  const end = c.constInts(2, 'end');
  const strides = c.constInts(3, 'strides');
  const [bm, em, ellipsis, newAxis, shrink] = [
    'begin_mask',
    'end_mask',
    'ellipsis_mask',
    'new_axis_mask',
    'shrink_axis_mask',
  ].map((m) => c.int(m, 0));
  const axes: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  const squeezeAxes: number[] = [];
  const unsqueezeAxes: number[] = [];
  let inDim = 0;
  let outDim = 0;
  for (let i = 0; i < begin.length; i++) {
    if (bit(ellipsis!, i)) {
      if (x.rank === null)
        c.fail('an ellipsis in StridedSlice needs the input rank (no _output_shapes recorded)');
      let after = 0;
      for (let j = i + 1; j < begin.length; j++) if (!bit(newAxis!, j)) after++;
      const covered = x.rank! - inDim - after;
      inDim += covered;
      outDim += covered;
      continue;
    }
    if (bit(newAxis!, i)) {
      unsqueezeAxes.push(outDim++);
      continue;
    }
    if (bit(shrink!, i)) {
      const b = begin[i]!;
      axes.push(inDim);
      starts.push(b);
      ends.push(b === -1 ? END : b + 1);
      steps.push(1);
      squeezeAxes.push(inDim++);
      continue;
    }
    const step = strides[i]!;
    if (step === 0) c.fail('a stride of 0');
    const start = bit(bm!, i) ? (step > 0 ? 0 : END) : begin[i]!;
    const stop = bit(em!, i) ? (step > 0 ? END : -END) : end[i]!;
    if (!(start === 0 && stop === END && step === 1)) {
      axes.push(inDim);
      starts.push(start);
      ends.push(stop);
      steps.push(step);
    }
    inDim++;
    outDim++;
  }
  let y = x.name;
  if (axes.length > 0) {
    y = c.b.op(
      'Slice',
      [y, c.b.int64s(starts), c.b.int64s(ends), c.b.int64s(axes), c.b.int64s(steps)],
      c.hint,
    );
  }
  if (squeezeAxes.length > 0) y = c.b.op('Squeeze', [y, c.b.int64s(squeezeAxes)], c.hint);
  if (unsqueezeAxes.length > 0) y = c.b.op('Unsqueeze', [y, c.b.int64s(unsqueezeAxes)], c.hint);
  if (y === x.name) y = c.b.op('Identity', [y], c.hint);
  const r = x.rank === null ? null : x.rank - squeezeAxes.length + unsqueezeAxes.length;
  return [c.val(y, x.dtype, r)];
};

const gatherV2: Converter = (c) => {
  const params = c.input(0);
  const indices = c.input(1);
  const axis = c.constInt(2, 'axis');
  if (c.int('batch_dims', 0) !== 0) c.unsupported('batch_dims other than 0');
  const r = params.rank !== null && indices.rank !== null ? params.rank - 1 + indices.rank : null;
  return [c.val(c.b.op('Gather', [params.name, indices.name], c.hint, { axis: axis }), params.dtype, r)];
};

const gather: Converter = (c) => {
  const params = c.input(0);
  return [c.val(c.b.op('Gather', [params.name, c.input(1).name], c.hint, { axis: 0 }), params.dtype)];
};

/** ResourceGather reads rows of a variable: a Gather on its frozen initializer. */
const resourceGather: Converter = (c) => {
  const handle = c.input(0);
  if (!handle.resource) c.fail('its resource input does not lead to a VarHandleOp');
  if (c.int('batch_dims', 0) !== 0) c.unsupported('batch_dims other than 0');
  const params = c.variable(handle.resource!);
  const indices = c.input(1);
  const r = params.rank !== null && indices.rank !== null ? params.rank - 1 + indices.rank : null;
  return [c.val(c.b.op('Gather', [params.name, indices.name], c.hint, { axis: 0 }), params.dtype, r)];
};

/** Where(x) gives the [count, rank] int64 coordinates of true values; ONNX NonZero gives [rank, count]. */
const where: Converter = (c) => {
  if (c.inputs.length !== 1) c.unsupported('Where with x and y (use SelectV2)');
  const nz = c.b.op('NonZero', [c.input(0).name], c.hint);
  return [c.val(c.b.op('Transpose', [nz], c.hint, { perm: [1, 0] }), TF_INT64, 2)];
};

const broadcastTo: Converter = (c) => {
  const x = c.input(0);
  const s = c.input(1);
  return [
    c.val(
      c.b.op('Expand', [x.name, int64Of(c, s)], c.hint),
      x.dtype,
      s.konst ? (s.konst.dims[0] ?? 0) : null,
    ),
  ];
};

/** Cumsum(x, axis) with TF's exclusive and reverse flags, which ONNX CumSum-11 has too. */
const cumsum: Converter = (c) => {
  const x = c.input(0);
  const axis = c.constInt(1, 'axis');
  const y = c.b.op('CumSum', [x.name, c.b.int64s([axis], true)], c.hint, {
    exclusive: c.bool('exclusive') ? 1 : 0,
    reverse: c.bool('reverse') ? 1 : 0,
  });
  return [c.val(y, x.dtype, x.rank)];
};

/** OneHot(indices, depth, on, off): ONNX takes [off, on] as one values tensor. */
const oneHot: Converter = (c) => {
  const indices = c.input(0);
  const on = c.input(2);
  const off = c.input(3);
  const axes = c.b.int64s([0]);
  const values = c.b.op(
    'Concat',
    [c.b.op('Unsqueeze', [off.name, axes], c.hint), c.b.op('Unsqueeze', [on.name, axes], c.hint)],
    c.hint,
    { axis: 0 },
  );
  // onnxruntime registers OneHot for int64 indices and depth (onehot.cc), so both go through int64.
  const y = c.b.op('OneHot', [int64Of(c, indices), int64Of(c, c.input(1)), values], c.hint, {
    axis: c.int('axis', -1),
  });
  return [c.val(y, on.dtype, indices.rank === null ? null : indices.rank + 1)];
};

/** TopKV2(x, k) on the last axis, largest first; ONNX gives int64 indices, TF int32. */
const topK: Converter = (c) => {
  const x = c.input(0);
  const k = c.b.op('Reshape', [int64Of(c, c.input(1)), c.b.int64s([1])], c.hint);
  const [values, indices] = c.b.add('TopK', [x.name, k], c.hint, { axis: -1, largest: 1, sorted: 1 }, 2);
  const idxType = c.type('index_type', TF_INT32);
  return [c.val(values!, x.dtype, x.rank, 0), c.val(castTo(c, indices!, idxType), idxType, x.rank, 1)];
};

export const shapeOps: Readonly<Record<string, Converter>> = {
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  Transpose: transpose,
  Shape: shape,
  Size: size,
  Rank: rank,
  Fill: fill,
  ZerosLike: likeOf(0),
  OnesLike: likeOf(1),
  Range: range,
  Tile: tile,
  Pad: pad('constant'),
  PadV2: pad('constant'),
  MirrorPad: pad('mirror'),
  ConcatV2: concat(false),
  Concat: concat(true),
  Pack: pack,
  Unpack: unpack,
  Split: split,
  SplitV: splitV,
  Slice: slice,
  StridedSlice: stridedSlice,
  GatherV2: gatherV2,
  Gather: gather,
  ResourceGather: resourceGather,
  Where: where,
  BroadcastTo: broadcastTo,
  Cumsum: cumsum,
  OneHot: oneHot,
  TopKV2: topK,
};
