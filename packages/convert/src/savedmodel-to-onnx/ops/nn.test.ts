import { describe, expect, it } from 'vitest';
import { transposeBytes } from './nn.js';
import {
  attr,
  constant,
  convert,
  F32,
  f32,
  iota,
  node,
  placeholder,
  runGraph,
  signature,
} from '../../../test/graph.helper.js';

const T = { T: attr.type(F32) };
const nhwc = (extra: Record<string, ReturnType<typeof attr.str>> = {}) => ({
  ...T,
  data_format: attr.str('NHWC'),
  strides: attr.ints([1, 1, 1, 1]),
  ...extra,
});

/** x fed as NHWC [1, 3, 3, 1] holding 1..9. */
const grid = () =>
  f32(
    [1, 3, 3, 1],
    iota(9).map((i) => i + 1),
  );

async function one(
  op: string,
  attrs: Record<string, unknown>,
  x: ReturnType<typeof f32>,
  filter?: [number[], number[]],
) {
  const nodes = [placeholder('x', F32)];
  const inputs = ['x'];
  if (filter) {
    nodes.push(constant('w', F32, filter[0], filter[1]));
    inputs.push('w');
  }
  nodes.push(node('y', op, inputs, attrs as never));
  return (
    await runGraph(nodes, signature({ x: ['x:0', F32, [...x.dims]] }, { y: ['y:0', F32, null] }), { x })
  ).y!;
}

describe('NN converters (NHWC through Transpose pairs)', () => {
  it('Conv2D VALID and SAME on a 3x3 grid with a 2x2 ones filter', async () => {
    const ones: [number[], number[]] = [
      [2, 2, 1, 1],
      [1, 1, 1, 1],
    ];
    expect(await one('Conv2D', nhwc({ padding: attr.str('VALID') }), grid(), ones)).toEqual({
      dims: [1, 2, 2, 1],
      values: [12, 16, 24, 28],
    });
    // TF SAME pads the odd row/column at the end.
    expect(await one('Conv2D', nhwc({ padding: attr.str('SAME') }), grid(), ones)).toEqual({
      dims: [1, 3, 3, 1],
      values: [12, 16, 9, 24, 28, 15, 15, 17, 9],
    });
    // Stride 2 SAME: windows at (0,0), (0,2), (2,0), (2,2).
    expect(
      await one(
        'Conv2D',
        nhwc({ padding: attr.str('SAME'), strides: attr.ints([1, 2, 2, 1]) }),
        grid(),
        ones,
      ),
    ).toEqual({ dims: [1, 2, 2, 1], values: [12, 9, 15, 9] });
  });

  it('Conv2D keeps channels last: a 1x1 filter mixing 2 channels into 3', async () => {
    const x = f32([1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const y = await one('Conv2D', nhwc({ padding: attr.str('VALID') }), x, [
      [1, 1, 2, 3],
      [1, 0, 1, 0, 1, 1],
    ]);
    expect(y).toEqual({ dims: [1, 2, 2, 3], values: [1, 2, 3, 3, 4, 7, 5, 6, 11, 7, 8, 15] });
  });

  it('DepthwiseConv2dNative scales each channel by its own filter', async () => {
    const x = f32([1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const y = await one('DepthwiseConv2dNative', nhwc({ padding: attr.str('VALID') }), x, [
      [1, 1, 2, 1],
      [2, 3],
    ]);
    expect(y).toEqual({ dims: [1, 2, 2, 2], values: [2, 6, 6, 12, 10, 18, 14, 24] });
  });

  it('MaxPool VALID and AvgPool SAME (padding not counted, as TF)', async () => {
    const pool = { ksize: attr.ints([1, 2, 2, 1]) };
    expect(await one('MaxPool', nhwc({ ...pool, padding: attr.str('VALID') }), grid())).toEqual({
      dims: [1, 2, 2, 1],
      values: [5, 6, 8, 9],
    });
    expect(
      await one(
        'AvgPool',
        nhwc({ ...pool, padding: attr.str('SAME'), strides: attr.ints([1, 2, 2, 1]) }),
        grid(),
      ),
    ).toEqual({ dims: [1, 2, 2, 1], values: [3, 4.5, 7.5, 9] });
  });

  it('Conv2DBackpropInput (transposed convolution) with SAME padding and stride 2', async () => {
    // dy [1,2,2,1] = 1..4, filter 2x2 ones, output 4x4: each dy pixel spreads over its 2x2 block.
    const out = await runGraph(
      [
        placeholder('dy', F32),
        constant('sizes', 3, [4], [1, 4, 4, 1]),
        constant('w', F32, [2, 2, 1, 1], [1, 1, 1, 1]),
        node(
          'y',
          'Conv2DBackpropInput',
          ['sizes', 'w', 'dy'],
          nhwc({ padding: attr.str('SAME'), strides: attr.ints([1, 2, 2, 1]) }),
        ),
      ],
      signature({ dy: ['dy:0', F32, [1, 2, 2, 1]] }, { y: ['y:0', F32, null] }),
      { dy: f32([1, 2, 2, 1], [1, 2, 3, 4]) },
    );
    expect(out.y).toEqual({ dims: [1, 4, 4, 1], values: [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4] });
  });

  it('FusedBatchNormV3 (inference) normalises each channel', async () => {
    const out = await runGraph(
      [
        placeholder('x', F32),
        constant('scale', F32, [2], [2, 3]),
        constant('offset', F32, [2], [1, 1]),
        constant('mean', F32, [2], [0, 1]),
        constant('var', F32, [2], [4, 0.25]),
        node('y', 'FusedBatchNormV3', ['x', 'scale', 'offset', 'mean', 'var'], {
          ...T,
          U: attr.type(F32),
          epsilon: attr.float(0),
          is_training: attr.bool(false),
          data_format: attr.str('NHWC'),
        }),
      ],
      signature({ x: ['x:0', F32, [1, 1, 2, 2]] }, { y: ['y:0', F32, null] }),
      { x: f32([1, 1, 2, 2], [1, 2, 3, 0]) },
    );
    expect(out.y!.values).toEqual([2, 7, 4, -5]);
  });

  it('conv -> bias -> relu -> conv keeps only the outer Transposes (the cancel pass removes the inner ones)', async () => {
    const nodes = [
      placeholder('x', F32),
      constant('w1', F32, [2, 2, 1, 2], [1, 1, 1, 1, 1, 1, 1, 1]),
      constant('bias', F32, [2], [0.5, -100]),
      constant('w2', F32, [2, 2, 2, 1], [1, 0, 0, 0, 0, 0, 0, 0]),
      node('c1', 'Conv2D', ['x', 'w1'], nhwc({ padding: attr.str('SAME') })),
      node('b1', 'BiasAdd', ['c1', 'bias'], T),
      node('r', 'Relu', ['b1'], T),
      node('c2', 'Conv2D', ['r', 'w2'], nhwc({ padding: attr.str('VALID') })),
    ];
    const sig = signature({ x: ['x:0', F32, [1, 3, 3, 1]] }, { y: ['c2:0', F32, null] });
    const model = convert(nodes, sig);
    // Constant filters are re-laid out at conversion: only the input's and output's Transposes stay.
    expect(model.graph!.node!.filter((n) => n.op_type === 'Transpose')).toHaveLength(2);
    // The bias now broadcasts along NCHW's channel axis.
    expect(model.graph!.initializer!.find((t) => t.name!.startsWith('bias:0:perm'))?.dims).toEqual([
      1n,
      2n,
      1n,
      1n,
    ]);
    // Channel 0 of c1 + 0.5 survives the Relu, channel 1 (-100) does not; c2 takes channel 0's
    // top-left of each 2x2 window: c1[0..1][0..1] = 12 16 24 28.
    const out = await runGraph(nodes, sig, { x: grid() });
    expect(out.y).toEqual({ dims: [1, 2, 2, 1], values: [12.5, 16.5, 24.5, 28.5] });
  });

  it('a filter that is not a constant is transposed in the graph (and gives the same answer)', async () => {
    const out = await runGraph(
      [
        placeholder('x', F32),
        placeholder('w', F32),
        node('y', 'Conv2D', ['x', 'w'], nhwc({ padding: attr.str('VALID') })),
      ],
      signature({ x: ['x:0', F32, [1, 2, 2, 2]], w: ['w:0', F32, [1, 1, 2, 3]] }, { y: ['y:0', F32, null] }),
      { x: f32([1, 2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]), w: f32([1, 1, 2, 3], [1, 0, 1, 0, 1, 1]) },
    );
    expect(out.y).toEqual({ dims: [1, 2, 2, 3], values: [1, 2, 3, 3, 4, 7, 5, 6, 11, 7, 8, 15] });
  });

  it('transposeBytes permutes axes like ONNX Transpose', () => {
    const t = transposeBytes(Uint8Array.from([0, 1, 2, 3, 4, 5]), [2, 3], [1, 0], 1);
    expect(t).toEqual({ bytes: Uint8Array.from([0, 3, 1, 4, 2, 5]), dims: [3, 2] });
  });

  it('MatMul with transpose_b, BatchMatMulV2 with adj_y, Einsum', async () => {
    const out = await runGraph(
      [
        placeholder('a', F32),
        constant('b', F32, [2, 2], [1, 2, 3, 4]),
        node('mm', 'MatMul', ['a', 'b'], { ...T, transpose_b: attr.bool(true) }),
        constant('b3', F32, [1, 2, 2], [1, 2, 3, 4]),
        node('a3', 'ExpandDims', ['a', 'zero']),
        constant('zero', 3, [], [0]),
        node('bmm', 'BatchMatMulV2', ['a3', 'b3'], { ...T, adj_y: attr.bool(true) }),
        node('ein', 'Einsum', ['a', 'b'], { ...T, equation: attr.str('ij,jk->ik'), N: attr.int(2) }),
      ],
      signature(
        { a: ['a:0', F32, [2, 2]] },
        { mm: ['mm:0', F32, null], bmm: ['bmm:0', F32, null], ein: ['ein:0', F32, null] },
      ),
      { a: f32([2, 2], [1, 0, 0, 1]) },
    );
    expect(out.mm!.values).toEqual([1, 3, 2, 4]);
    expect(out.bmm).toEqual({ dims: [1, 2, 2], values: [1, 3, 2, 4] });
    expect(out.ein!.values).toEqual([1, 2, 3, 4]);
  });
});

describe('transposeBytes on pooled Buffers', () => {
  it('reads the view, not the start of the pool it lives in', () => {
    const pooled = Buffer.allocUnsafe(4);
    pooled.set([1, 2, 3, 4]);
    expect(pooled.byteOffset).toBeGreaterThanOrEqual(0);
    const t = transposeBytes(pooled, [2, 2], [1, 0], 1);
    expect([...t.bytes]).toEqual([1, 3, 2, 4]);
  });
});

describe('image resizing', () => {
  const resize = async (
    op: string,
    x: ReturnType<typeof f32>,
    size: number[],
    attrs: Record<string, boolean>,
  ) =>
    (
      await runGraph(
        [
          placeholder('x', F32),
          constant('size', 3, [2], size),
          node('y', op, ['x', 'size'], {
            T: attr.type(F32),
            ...Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, attr.bool(v)])),
          }),
        ],
        signature({ x: ['x:0', F32, [...x.dims]] }, { y: ['y:0', F32, null] }),
        { x },
      )
    ).y!;

  it('ResizeNearestNeighbor doubles each pixel (asymmetric, floor)', async () => {
    const y = await resize('ResizeNearestNeighbor', f32([1, 2, 2, 1], [1, 2, 3, 4]), [4, 4], {});
    expect(y).toEqual({ dims: [1, 4, 4, 1], values: [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4] });
  });

  it('ResizeBilinear with align_corners interpolates between the corner pixels', async () => {
    const y = await resize('ResizeBilinear', f32([1, 1, 2, 1], [0, 3]), [1, 4], { align_corners: true });
    expect(y.dims).toEqual([1, 1, 4, 1]);
    y.values.forEach((v, i) => {
      expect(v).toBeCloseTo(i, 5);
    });
  });
});
