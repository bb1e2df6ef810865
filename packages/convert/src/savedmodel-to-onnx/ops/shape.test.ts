import { describe, expect, it } from 'vitest';
import type { TfNodeDef } from '../../formats.js';
import {
  attr,
  BOOL,
  constant,
  F32,
  f32,
  I32,
  i32,
  I64,
  iota,
  node,
  placeholder,
  runGraph,
  signature,
} from '../../../test/graph.helper.js';

/** Runs nodes on x (float [2, 3, 4] = 0..23 unless given) and returns output y. */
async function on(nodes: TfNodeDef[], x = f32([2, 3, 4], iota(24)), outType = F32) {
  const out = await runGraph(
    [placeholder('x', x.type === 'int32' ? I32 : F32), ...nodes],
    signature({ x: ['x:0', x.type === 'int32' ? I32 : F32, [...x.dims]] }, { y: ['y:0', outType, null] }),
    { x },
  );
  return out.y!;
}

const ss = (begin: number[], end: number[], strides: number[], masks: Record<string, number>) => [
  constant('b', I32, [begin.length], begin),
  constant('e', I32, [end.length], end),
  constant('s', I32, [strides.length], strides),
  node('y', 'StridedSlice', ['x', 'b', 'e', 's'], {
    T: attr.type(F32),
    Index: attr.type(I32),
    ...Object.fromEntries(Object.entries(masks).map(([k, v]) => [k, attr.int(v)])),
  }),
];

describe('StridedSlice masks', () => {
  it('x[1, :, ::2]: shrink on axis 0, begin/end masks on the others, stride 2', async () => {
    const y = await on(
      ss([1, 0, 0], [2, 0, 0], [1, 1, 2], { shrink_axis_mask: 1, begin_mask: 6, end_mask: 6 }),
    );
    expect(y).toEqual({ dims: [3, 2], values: [12, 14, 16, 18, 20, 22] });
  });

  it('x[..., -1]: an ellipsis then a negative shrink index', async () => {
    const y = await on(ss([0, -1], [0, 0], [1, 1], { ellipsis_mask: 1, shrink_axis_mask: 2 }));
    expect(y).toEqual({ dims: [2, 3], values: [3, 7, 11, 15, 19, 23] });
  });

  it('x[:, tf.newaxis, ::-1, 1:3]: a new axis, a reversed axis and a range', async () => {
    const y = await on(
      ss([0, 0, 0, 1], [0, 0, 0, 3], [1, 1, -1, 1], { begin_mask: 5, end_mask: 5, new_axis_mask: 2 }),
    );
    expect(y).toEqual({ dims: [2, 1, 3, 2], values: [9, 10, 5, 6, 1, 2, 21, 22, 17, 18, 13, 14] });
  });

  it('x[0:1, -2:] with negative begin; the implicit trailing dims stay whole', async () => {
    const y = await on(ss([0, -2], [1, 0], [1, 1], { end_mask: 2 }));
    expect(y).toEqual({ dims: [1, 2, 4], values: [4, 5, 6, 7, 8, 9, 10, 11] });
  });
});

describe('shape and array converters', () => {
  it('Reshape with an int32 shape and -1, Transpose, ExpandDims, Squeeze', async () => {
    expect(await on([constant('s', I32, [2], [4, -1]), node('y', 'Reshape', ['x', 's'])])).toMatchObject({
      dims: [4, 6],
    });
    const t = await on([constant('p', I32, [3], [2, 0, 1]), node('y', 'Transpose', ['x', 'p'])]);
    expect(t.dims).toEqual([4, 2, 3]);
    expect(t.values.slice(0, 4)).toEqual([0, 4, 8, 12]);
    expect((await on([constant('a', I32, [], [-1]), node('y', 'ExpandDims', ['x', 'a'])])).dims).toEqual([
      2, 3, 4, 1,
    ]);
    const sq = await on([node('y', 'Squeeze', ['x'], { squeeze_dims: attr.ints([0]) })], f32([1, 2], [7, 8]));
    expect(sq).toEqual({ dims: [2], values: [7, 8] });
  });

  it('Reshape reads 0 as a zero-size dim, as TF does (allowzero)', async () => {
    const y = await on([constant('s', I32, [2], [0, 5]), node('y', 'Reshape', ['x', 's'])], f32([0, 5], []));
    expect(y).toEqual({ dims: [0, 5], values: [] });
  });

  it('ConcatV2 on the last axis, Pack on axis 1, Unpack, Split, SplitV', async () => {
    const x = () => f32([2, 2], [1, 2, 3, 4]);
    const cat = await on(
      [constant('ax', I32, [], [-1]), node('y', 'ConcatV2', ['x', 'x', 'ax'], { N: attr.int(2) })],
      x(),
    );
    expect(cat).toEqual({ dims: [2, 4], values: [1, 2, 1, 2, 3, 4, 3, 4] });
    const pack = await on([node('y', 'Pack', ['x', 'x'], { axis: attr.int(1), N: attr.int(2) })], x());
    expect(pack).toEqual({ dims: [2, 2, 2], values: [1, 2, 1, 2, 3, 4, 3, 4] });
    const unpack = await on(
      [node('u', 'Unpack', ['x'], { axis: attr.int(1), num: attr.int(2) }), node('y', 'Identity', ['u:1'])],
      x(),
    );
    expect(unpack).toEqual({ dims: [2], values: [2, 4] });
    const split = await on(
      [
        constant('d', I32, [], [0]),
        node('sp', 'Split', ['d', 'x'], { num_split: attr.int(2) }),
        node('y', 'Identity', ['sp:1']),
      ],
      x(),
    );
    expect(split).toEqual({ dims: [1, 2], values: [3, 4] });
    const splitV = await on(
      [
        constant('sz', I32, [2], [1, 3]),
        constant('d', I32, [], [1]),
        node('sp', 'SplitV', ['x', 'sz', 'd']),
        node('y', 'Identity', ['sp:1']),
      ],
      f32([1, 4], [1, 2, 3, 4]),
    );
    expect(splitV).toEqual({ dims: [1, 3], values: [2, 3, 4] });
  });

  it('Slice with size -1, Tile, Pad, PadV2, Fill, ZerosLike, OnesLike', async () => {
    const x = () => f32([2, 2], [1, 2, 3, 4]);
    const slice = await on(
      [
        constant('b', I32, [2], [0, 1]),
        constant('s', I32, [2], [-1, 1]),
        node('y', 'Slice', ['x', 'b', 's']),
      ],
      x(),
    );
    expect(slice).toEqual({ dims: [2, 1], values: [2, 4] });
    const tile = await on([constant('m', I32, [2], [1, 2]), node('y', 'Tile', ['x', 'm'])], x());
    expect(tile).toEqual({ dims: [2, 4], values: [1, 2, 1, 2, 3, 4, 3, 4] });
    const pad = await on([constant('p', I32, [2, 2], [1, 0, 0, 1]), node('y', 'Pad', ['x', 'p'])], x());
    expect(pad).toEqual({ dims: [3, 3], values: [0, 0, 0, 1, 2, 0, 3, 4, 0] });
    const pad2 = await on(
      [
        constant('p', I32, [2, 2], [0, 0, 1, 0]),
        constant('v', F32, [], [9]),
        node('y', 'PadV2', ['x', 'p', 'v']),
      ],
      x(),
    );
    expect(pad2).toEqual({ dims: [2, 3], values: [9, 1, 2, 9, 3, 4] });
    const fill = await on(
      [constant('d', I32, [2], [1, 3]), constant('v', F32, [], [7]), node('y', 'Fill', ['d', 'v'])],
      x(),
    );
    expect(fill).toEqual({ dims: [1, 3], values: [7, 7, 7] });
    expect(await on([node('y', 'ZerosLike', ['x'])], x())).toEqual({ dims: [2, 2], values: [0, 0, 0, 0] });
    expect(await on([node('y', 'OnesLike', ['x'])], x())).toEqual({ dims: [2, 2], values: [1, 1, 1, 1] });
  });

  it('Shape, Size, Rank as int32; Range', async () => {
    expect(await on([node('y', 'Shape', ['x'], { out_type: attr.type(I32) })], undefined, I32)).toEqual({
      dims: [3],
      values: [2, 3, 4],
    });
    expect(await on([node('y', 'Size', ['x'], { out_type: attr.type(I32) })], undefined, I32)).toEqual({
      dims: [],
      values: [24],
    });
    expect(await on([node('y', 'Rank', ['x'])], undefined, I32)).toEqual({ dims: [], values: [3] });
    const range = await on(
      [
        constant('s', I32, [], [1]),
        constant('l', I32, [], [10]),
        constant('d', I32, [], [3]),
        node('y', 'Range', ['s', 'l', 'd']),
      ],
      i32([1], [0]),
      I32,
    );
    expect(range).toEqual({ dims: [3], values: [1, 4, 7] });
  });

  it('GatherV2 on axis 1 and Where with one input', async () => {
    const g = await on(
      [constant('i', I32, [2], [2, 0]), constant('a', I32, [], [1]), node('y', 'GatherV2', ['x', 'i', 'a'])],
      f32([2, 3], [1, 2, 3, 4, 5, 6]),
    );
    expect(g).toEqual({ dims: [2, 2], values: [3, 1, 6, 4] });
    const w = await on(
      [
        constant('z', F32, [], [2.5]),
        node('b', 'Greater', ['x', 'z'], { T: attr.type(F32) }),
        node('y', 'Where', ['b'], { T: attr.type(BOOL) }),
      ],
      f32([2, 2], [1, 3, 4, 2]),
      I64,
    );
    expect(w).toEqual({ dims: [2, 2], values: [0, 1, 1, 0] });
  });
});
