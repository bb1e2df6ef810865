import type { AttrInput } from '../builder.js';
import type { Converter, OpContext, Val } from '../context.js';
import { tfDtypeBytes } from '../dtypes.js';
import { int64Of } from './shape.js';

/** C-order bytes of a tensor with its axes permuted (ONNX Transpose semantics). */
export function transposeBytes(
  bytes: Uint8Array,
  dims: readonly number[],
  perm: readonly number[],
  size: number,
): { bytes: Uint8Array; dims: number[] } {
  const outDims = perm.map((p) => dims[p]!);
  const inStrides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const count = dims.reduce((a, b) => a * b, 1);
  // Element-typed views (over an aligned copy) move one element per step, not one byte.
  const View = size === 8 ? BigUint64Array : size === 4 ? Uint32Array : size === 2 ? Uint16Array : Uint8Array;
  // A fresh copy: `bytes` may be a Node Buffer from the shared pool (its .buffer starts elsewhere,
  // and Buffer#slice is a view, not a copy).
  const aligned = new Uint8Array(bytes.byteLength);
  aligned.set(bytes);
  const src = new View(aligned.buffer, 0, count);
  const dst = new View(count);
  const index = new Array<number>(outDims.length).fill(0);
  for (let o = 0; o < count; o++) {
    let at = 0;
    for (let k = 0; k < outDims.length; k++) at += index[k]! * inStrides[perm[k]!]!;
    dst[o] = src[at]!;
    for (let k = outDims.length - 1; k >= 0; k--) {
      if (++index[k]! < outDims[k]!) break;
      index[k] = 0;
    }
  }
  const out = new Uint8Array(dst.buffer);
  return { bytes: out, dims: outDims };
}

/**
 * The filter in ONNX's [out, in, H, W] layout: a constant (a Const or frozen variable, as in every
 * exported model) is re-laid out here, once; anything else gets a Transpose node.
 */
function weights(c: OpContext, filter: Val, reshape?: (dims: readonly number[]) => number[]): string {
  const k = filter.konst;
  if (k && k.dims.length === 4) {
    const dims = reshape ? reshape(k.dims) : [...k.dims];
    const t = transposeBytes(k.bytes, dims, HWIO_TO_OIHW, tfDtypeBytes(k.dtype));
    return c.b.initializer(`${c.hint}/weights`, k.dtype, t.dims, t.bytes);
  }
  const shaped = reshape ? c.b.op('Reshape', [filter.name, c.b.int64s([0, 0, 1, -1])], c.hint) : filter.name;
  return c.b.op('Transpose', [shaped], c.hint, { perm: HWIO_TO_OIHW });
}

/** NHWC -> NCHW and back (and the 3-D/5-D forms): ONNX convolutions and pools are channels-first. */
export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];
/** TF filters are [H, W, in, out]; ONNX weights are [out, in, H, W]. */
const HWIO_TO_OIHW = [3, 2, 0, 1];

const channelsLast = (c: OpContext): boolean => {
  const format = c.str('data_format', 'NHWC');
  if (format !== 'NHWC' && format !== 'NCHW') c.unsupported(`data_format ${format} (NHWC and NCHW convert)`);
  return format === 'NHWC';
};

/** Spatial entries of a 4-entry NHWC/NCHW list attr (strides, dilations, ksize). */
const spatial = (c: OpContext, name: string, last: boolean, fallback: number): number[] => {
  const v = c.ints(name);
  if (v.length === 0) return [fallback, fallback];
  if (v.length !== 4) c.fail(`attribute ${name} has ${v.length} entries, 4 expected`);
  return last ? [v[1]!, v[2]!] : [v[2]!, v[3]!];
};

/** TF SAME pads the odd pixel at the end: ONNX SAME_UPPER (tf2onnx conv_convert_inputs does the same). */
const padAttrs = (c: OpContext, last: boolean, kernel?: readonly number[]): Record<string, AttrInput> => {
  const padding = c.str('padding', 'VALID');
  const dilations = spatial(c, 'dilations', last, 1);
  if (padding === 'SAME' && dilations.some((d) => d > 1)) {
    // onnxruntime refuses SAME auto_pad with dilation; TF allows dilation only with stride 1, where
    // SAME pads (k-1)*d in all, the smaller half first.
    if (!kernel) c.fail('a dilated SAME convolution needs a constant filter (its size sets the pads)');
    const total = kernel!.map((k, i) => (k - 1) * dilations[i]!);
    return { pads: [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))] };
  }
  if (padding === 'SAME') return { auto_pad: 'SAME_UPPER' };
  if (padding === 'VALID') return { auto_pad: 'VALID' };
  if (padding === 'EXPLICIT') {
    const p = c.ints('explicit_paddings');
    if (p.length !== 8) c.fail(`explicit_paddings has ${p.length} entries, 8 expected`);
    const [h, w] = last ? [2, 4] : [4, 6];
    return { pads: [p[h]!, p[w]!, p[h + 1]!, p[w + 1]!] };
  }
  return c.unsupported(`padding ${padding}`);
};

const nchwIn = (c: OpContext, x: Val, last: boolean): string =>
  last ? c.b.op('Transpose', [x.name], c.hint, { perm: TO_NCHW }) : x.name;
const nchwOut = (c: OpContext, y: string, last: boolean): string =>
  last ? c.b.op('Transpose', [y], c.hint, { perm: TO_NHWC }) : y;

const conv2d: Converter = (c) => {
  const x = c.input(0);
  const last = channelsLast(c);
  const filter = c.input(1);
  const w = weights(c, filter);
  const y = c.b.op('Conv', [nchwIn(c, x, last), w], c.hint, {
    strides: spatial(c, 'strides', last, 1),
    dilations: spatial(c, 'dilations', last, 1),
    ...padAttrs(c, last, filter.konst?.dims.slice(0, 2)),
  });
  return [c.val(nchwOut(c, y, last), x.dtype, 4)];
};

/** A depthwise filter [H, W, C, M] is a grouped convolution with C groups of M outputs each. */
const depthwise: Converter = (c) => {
  const x = c.input(0);
  const filter = c.input(1);
  const last = channelsLast(c);
  const channels = filter.konst?.dims[2];
  if (channels === undefined)
    c.fail('the depthwise filter must be a constant or variable (its channel count sets the groups)');
  const w = weights(c, filter, (d) => [d[0]!, d[1]!, 1, d[2]! * d[3]!]);
  const y = c.b.op('Conv', [nchwIn(c, x, last), w], c.hint, {
    group: channels!,
    strides: spatial(c, 'strides', last, 1),
    dilations: spatial(c, 'dilations', last, 1),
    ...padAttrs(c, last, filter.konst?.dims.slice(0, 2)),
  });
  return [c.val(nchwOut(c, y, last), x.dtype, 4)];
};

/**
 * Conv2DBackpropInput(input_sizes, filter, out_backprop) is a transposed convolution whose output
 * shape is input_sizes; ONNX ConvTranspose with output_shape derives the pads (SAME_UPPER puts the
 * smaller half first, as TF's forward SAME does).
 */
const conv2dBackpropInput: Converter = (c) => {
  const last = channelsLast(c);
  // Keras packs input_sizes from the (dynamic) batch and constant spatial sizes: those suffice.
  const given = c.input(0);
  const sizes: (number | null)[] = given.konst ? c.constInts(0, 'input_sizes') : [...(given.elements ?? [])];
  const spatialSizes = last ? [sizes[1], sizes[2]] : [sizes[2], sizes[3]];
  const known = spatialSizes.every((s) => typeof s === 'number');
  const dy = c.input(2);
  const w = weights(c, c.input(1));
  const padding = c.str('padding', 'VALID');
  if (padding === 'EXPLICIT') c.unsupported('EXPLICIT padding on a transposed convolution');
  const y = c.b.op('ConvTranspose', [nchwIn(c, dy, last), w], c.hint, {
    strides: spatial(c, 'strides', last, 1),
    dilations: spatial(c, 'dilations', last, 1),
    // Without known sizes ONNX derives them: SAME gives input x stride, VALID (in-1) x stride + k.
    ...(known ? { output_shape: spatialSizes as number[] } : {}),
    ...(padding === 'SAME' ? { auto_pad: 'SAME_UPPER' } : {}),
  });
  return [c.val(nchwOut(c, y, last), dy.dtype, 4)];
};

const pool =
  (onnxOp: string): Converter =>
  (c) => {
    const x = c.input(0);
    const last = channelsLast(c);
    const ksize = c.ints('ksize');
    if (ksize.length !== 4) c.fail(`ksize has ${ksize.length} entries, 4 expected`);
    const y = c.b.op(onnxOp, [nchwIn(c, x, last)], c.hint, {
      kernel_shape: spatial(c, 'ksize', last, 1),
      strides: spatial(c, 'strides', last, 1),
      ...padAttrs(c, last),
    });
    return [c.val(nchwOut(c, y, last), x.dtype, 4)];
  };

/**
 * is_training=true normalises with the batch's own statistics: Keras' LayerNormalization calls
 * fused_batch_norm this way on a reshaped input, so inference graphs have it. The biased variance
 * normalises, as FusedBatchNormV3's kernel does; exponential_avg_factor only updates the moving
 * statistics, which a frozen graph drops.
 */
function batchStatistics(c: OpContext, x: Val, last: boolean): Val[] {
  const rank = x.rank ?? 4;
  if (rank < 2) c.fail(`batch normalization needs an input of rank 2 or more, not ${rank}`);
  const axes = last ? [...Array(rank - 1).keys()] : [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
  const along = (v: Val): string =>
    last ? v.name : c.b.op('Reshape', [v.name, c.b.int64s([-1, ...Array(rank - 2).fill(1)])], c.hint);
  const mean = c.b.op('ReduceMean', [x.name], c.hint, { axes, keepdims: 1 });
  const d = c.b.op('Sub', [x.name, mean], c.hint);
  const variance = c.b.op('ReduceMean', [c.b.op('Mul', [d, d], c.hint)], c.hint, { axes, keepdims: 1 });
  const eps = c.b.scalar(x.dtype, c.float('epsilon', 0.0001));
  const normed = c.b.op('Div', [d, c.b.op('Sqrt', [c.b.op('Add', [variance, eps], c.hint)], c.hint)], c.hint);
  const y = c.b.op('Add', [c.b.op('Mul', [normed, along(c.input(1))], c.hint), along(c.input(2))], c.hint);
  const flat = (v: string): string => c.b.op('Reshape', [v, c.b.int64s([-1])], c.hint);
  const m = c.val(flat(mean), x.dtype, 1);
  const v = c.val(flat(variance), x.dtype, 1);
  return [c.val(y, x.dtype, rank), m, v, m, v, m];
}

const fusedBatchNorm: Converter = (c) => {
  const x = c.input(0);
  const last = channelsLast(c);
  if (c.bool('is_training', true)) return batchStatistics(c, x, last);
  const [scale, offset, mean, variance] = [1, 2, 3, 4].map((i) => c.input(i).name);
  const y = c.b.op('BatchNormalization', [nchwIn(c, x, last), scale!, offset!, mean!, variance!], c.hint, {
    epsilon: { f: c.float('epsilon', 0.0001) },
  });
  // Outputs 1..: batch mean/variance are the moving ones in inference mode; reserve spaces likewise.
  const stat = (i: number): Val => c.input(i);
  return [c.val(nchwOut(c, y, last), x.dtype, x.rank ?? 4), stat(3), stat(4), stat(3), stat(4), stat(3)];
};

const matMul: Converter = (c) => {
  const t = (v: Val, flag: string): string =>
    c.bool(flag) ? c.b.op('Transpose', [v.name], c.hint, { perm: [1, 0] }) : v.name;
  const a = c.input(0);
  return [c.val(c.b.op('MatMul', [t(a, 'transpose_a'), t(c.input(1), 'transpose_b')], c.hint), a.dtype, 2)];
};

const batchMatMul: Converter = (c) => {
  const a = c.input(0);
  const b = c.input(1);
  const adj = (v: Val, flag: string): string => {
    if (!c.bool(flag)) return v.name;
    if (v.rank === null || v.rank < 2) c.fail(`${flag} needs an input of known rank 2 or more`);
    const perm = [...Array(v.rank! - 2).keys(), v.rank! - 1, v.rank! - 2];
    return c.b.op('Transpose', [v.name], c.hint, { perm });
  };
  const rank = a.rank !== null && b.rank !== null ? Math.max(a.rank, b.rank) : null;
  return [c.val(c.b.op('MatMul', [adj(a, 'adj_x'), adj(b, 'adj_y')], c.hint), a.dtype, rank)];
};

/** ONNX Einsum (opset 12) takes TF's equations as they are (no ellipsis broadcasting rules differ). */
const einsum: Converter = (c) => {
  const equation = c.str('equation');
  if (equation === '') c.fail('the equation attribute is empty');
  c.input(0);
  const names = c.inputs.map((v) => v.name);
  return [c.val(c.b.op('Einsum', names, c.hint, { equation }), c.inputs[0]!.dtype)];
};

/**
 * ResizeBilinear / ResizeNearestNeighbor(images NHWC, size [h, w]) as ONNX Resize on NCHW with
 * output sizes [N, C, h, w]. TF's coordinate rules map to ONNX's modes (tf2onnx does the same):
 * align_corners -> align_corners; half_pixel_centers -> half_pixel (linear) or
 * tf_half_pixel_for_nn (nearest, floor); neither -> asymmetric (nearest: floor).
 */
const resize =
  (mode: 'linear' | 'nearest'): Converter =>
  (c) => {
    const x = c.input(0);
    const align = c.bool('align_corners');
    const half = c.bool('half_pixel_centers');
    const nchw = c.b.op('Transpose', [x.name], c.hint, { perm: TO_NCHW });
    const nc = c.b.op('Slice', [c.b.op('Shape', [nchw], c.hint), c.b.int64s([0]), c.b.int64s([2])], c.hint);
    const hw = int64Of(c, c.input(1));
    const sizes = c.b.op('Concat', [nc, hw], c.hint, { axis: 0 });
    const transform = align
      ? 'align_corners'
      : half
        ? mode === 'linear'
          ? 'half_pixel'
          : 'tf_half_pixel_for_nn'
        : 'asymmetric';
    const y = c.b.op('Resize', [nchw, '', '', sizes], c.hint, {
      mode,
      coordinate_transformation_mode: transform,
      ...(mode === 'nearest' && { nearest_mode: align ? 'round_prefer_ceil' : 'floor' }),
    });
    return [c.val(c.b.op('Transpose', [y], c.hint, { perm: TO_NHWC }), x.dtype, 4)];
  };

export const nnOps: Readonly<Record<string, Converter>> = {
  MatMul: matMul,
  BatchMatMul: batchMatMul,
  BatchMatMulV2: batchMatMul,
  BatchMatMulV3: batchMatMul,
  Einsum: einsum,
  Conv2D: conv2d,
  DepthwiseConv2dNative: depthwise,
  Conv2DBackpropInput: conv2dBackpropInput,
  MaxPool: pool('MaxPool'),
  AvgPool: pool('AveragePool'),
  FusedBatchNorm: fusedBatchNorm,
  FusedBatchNormV2: fusedBatchNorm,
  FusedBatchNormV3: fusedBatchNorm,
  ResizeBilinear: resize('linear'),
  ResizeNearestNeighbor: resize('nearest'),
};
