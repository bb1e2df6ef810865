import { describe, expect, it } from 'vitest';
import {
  attr,
  constant,
  convert,
  F32,
  f32,
  I32,
  I64,
  node,
  placeholder,
  runGraph,
  signature,
} from '../../test/graph.helper.js';

describe('constant folding of small integer computations', () => {
  it("a Transpose permutation built with ConcatV2 of constants (Keras' Tensordot) converts", async () => {
    const out = await runGraph(
      [
        placeholder('x', F32),
        constant('free', I32, [2], [0, 1]),
        constant('axes', I32, [1], [2]),
        constant('zero', I32, [], [0]),
        node('perm0', 'ConcatV2', ['axes', 'free', 'zero'], { T: attr.type(I32), N: attr.int(2) }),
        constant('one', I32, [], [1]),
        node('perm', 'Cast', ['perm0'], { SrcT: attr.type(I32), DstT: attr.type(I64) }),
        node('y', 'Transpose', ['x', 'perm'], { T: attr.type(F32) }),
      ],
      signature({ x: ['x:0', F32, [1, 2, 3]] }, { y: ['y:0', F32, null] }),
      { x: f32([1, 2, 3], [1, 2, 3, 4, 5, 6]) },
    );
    expect(out.y).toEqual({ dims: [3, 1, 2], values: [1, 4, 2, 5, 3, 6] });
  });

  it('Pack of constants, AddV2/Sub/Mul and Range fold to axes a reduction can use', async () => {
    const model = convert(
      [
        placeholder('x', F32),
        constant('a', I32, [], [1]),
        constant('b', I32, [], [2]),
        node('sum', 'AddV2', ['a', 'b'], { T: attr.type(I32) }),
        node('diff', 'Sub', ['sum', 'a'], { T: attr.type(I32) }),
        node('axes', 'Pack', ['a', 'diff'], { T: attr.type(I32), N: attr.int(2), axis: attr.int(0) }),
        node('y', 'Mean', ['x', 'axes'], { T: attr.type(F32), Tidx: attr.type(I32) }),
        node('r', 'Range', ['a', 'sum', 'a'], { Tidx: attr.type(I32) }),
        node('z', 'Max', ['x', 'r'], { T: attr.type(F32), Tidx: attr.type(I32) }),
      ],
      signature({ x: ['x:0', F32, [1, 2, 3]] }, { y: ['y:0', F32, null], z: ['z:0', F32, null] }),
    );
    const mean = model.graph!.node!.find((n) => n.op_type === 'ReduceMean')!;
    expect(mean.attribute!.find((a) => a.name === 'axes')!.ints).toEqual([1n, 2n]);
    const max = model.graph!.node!.find((n) => n.op_type === 'ReduceMax')!;
    expect(max.attribute!.find((a) => a.name === 'axes')!.ints).toEqual([1n, 2n]);
    // The folded integer nodes are dead: nothing reads them once their values are attributes.
    expect(model.graph!.node!.map((n) => n.op_type).sort()).toEqual([
      'Identity',
      'Identity',
      'ReduceMax',
      'ReduceMean',
    ]);
  });

  it('Conv2DBackpropInput with input_sizes packed from a dynamic batch uses the constant spatial sizes', async () => {
    const nhwc = {
      T: attr.type(F32),
      data_format: attr.str('NHWC'),
      padding: attr.str('SAME'),
      strides: attr.ints([1, 2, 2, 1]),
    };
    const out = await runGraph(
      [
        placeholder('dy', F32),
        node('shape', 'Shape', ['dy'], { T: attr.type(F32), out_type: attr.type(I32) }),
        constant('b', I32, [1], [0]),
        constant('e', I32, [1], [1]),
        constant('s', I32, [1], [1]),
        node('batch', 'StridedSlice', ['shape', 'b', 'e', 's'], {
          T: attr.type(I32),
          shrink_axis_mask: attr.int(1),
        }),
        constant('four', I32, [], [4]),
        constant('one', I32, [], [1]),
        node('sizes', 'Pack', ['batch', 'four', 'four', 'one'], {
          T: attr.type(I32),
          N: attr.int(4),
          axis: attr.int(0),
        }),
        constant('w', F32, [2, 2, 1, 1], [1, 1, 1, 1]),
        node('y', 'Conv2DBackpropInput', ['sizes', 'w', 'dy'], nhwc),
      ],
      signature({ dy: ['dy:0', F32, [-1, 2, 2, 1]] }, { y: ['y:0', F32, null] }),
      { dy: f32([1, 2, 2, 1], [1, 2, 3, 4]) },
    );
    expect(out.y).toEqual({ dims: [1, 4, 4, 1], values: [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4] });
  });
});
