import { describe, expect, it } from 'vitest';
import {
  attr,
  BOOL,
  constant,
  F32,
  f32,
  I32,
  i32,
  node,
  placeholder,
  runGraph,
  signature,
} from '../../../test/graph.helper.js';

/** y = OP(x, c) with x fed and c a constant: one node between input and output. */
async function binary(op: string, x: ReturnType<typeof f32>, c: [number, number[], number[]], outType = F32) {
  const dtype = x.type === 'float32' ? F32 : I32;
  const out = await runGraph(
    [
      placeholder('x', dtype),
      constant('c', c[0], c[1], c[2]),
      node('y', op, ['x', 'c'], { T: attr.type(dtype) }),
    ],
    signature({ x: ['x:0', dtype, null] }, { y: ['y:0', outType, null] }),
    { x },
  );
  return out.y!;
}

async function unary(op: string, x: ReturnType<typeof f32>, attrs = {}) {
  const out = await runGraph(
    [placeholder('x', F32), node('y', op, ['x'], { T: attr.type(F32), ...attrs })],
    signature({ x: ['x:0', F32, null] }, { y: ['y:0', F32, null] }),
    { x },
  );
  return out.y!.values;
}

const close = (actual: number[], expected: number[]) => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => {
    expect(v).toBeCloseTo(expected[i]!, 5);
  });
};

describe('elementwise converters', () => {
  it('AddV2 broadcasts a [3] constant over a [2, 3] input', async () => {
    const y = await binary('AddV2', f32([2, 3], [1, 2, 3, 4, 5, 6]), [F32, [3], [10, 20, 30]]);
    expect(y).toEqual({ dims: [2, 3], values: [11, 22, 33, 14, 25, 36] });
  });

  it('Mul by a scalar, Sub, RealDiv, Maximum, Minimum, Pow', async () => {
    const x = () => f32([3], [1, -2, 4]);
    expect((await binary('Mul', x(), [F32, [], [3]])).values).toEqual([3, -6, 12]);
    expect((await binary('Sub', x(), [F32, [3], [1, 1, 1]])).values).toEqual([0, -3, 3]);
    expect((await binary('RealDiv', x(), [F32, [], [2]])).values).toEqual([0.5, -1, 2]);
    expect((await binary('Maximum', x(), [F32, [], [0]])).values).toEqual([1, 0, 4]);
    expect((await binary('Minimum', x(), [F32, [], [0]])).values).toEqual([0, -2, 0]);
    expect((await binary('Pow', x(), [F32, [], [2]])).values).toEqual([1, 4, 16]);
  });

  it('FloorDiv and FloorMod round toward -inf, for ints and floats (TF semantics, not C)', async () => {
    expect((await binary('FloorDiv', i32([4], [-7, 7, -7, 7]), [I32, [4], [2, -2, -2, 2]])).values).toEqual([
      -4, -4, 3, 3,
    ]);
    expect((await binary('FloorMod', i32([4], [-7, 7, -7, 7]), [I32, [4], [2, -2, -2, 2]])).values).toEqual([
      1, -1, -1, 1,
    ]);
    expect((await binary('FloorDiv', f32([2], [-7, 7]), [F32, [], [2]])).values).toEqual([-4, 3]);
    expect((await binary('FloorMod', f32([2], [-7.5, 7.5]), [F32, [], [2]])).values).toEqual([0.5, 1.5]);
  });

  it('SquaredDifference, comparisons and NotEqual give what TF gives', async () => {
    expect((await binary('SquaredDifference', f32([2], [1, 5]), [F32, [], [3]])).values).toEqual([4, 4]);
    const x = () => f32([3], [1, 2, 3]);
    expect((await binary('Greater', x(), [F32, [], [2]], BOOL)).values).toEqual([0, 0, 1]);
    expect((await binary('GreaterEqual', x(), [F32, [], [2]], BOOL)).values).toEqual([0, 1, 1]);
    expect((await binary('Less', x(), [F32, [], [2]], BOOL)).values).toEqual([1, 0, 0]);
    expect((await binary('LessEqual', x(), [F32, [], [2]], BOOL)).values).toEqual([1, 1, 0]);
    expect((await binary('Equal', x(), [F32, [], [2]], BOOL)).values).toEqual([0, 1, 0]);
    expect((await binary('NotEqual', x(), [F32, [], [2]], BOOL)).values).toEqual([1, 0, 1]);
  });

  it('activations: Relu, Relu6, Sigmoid, Tanh, Elu, LeakyRelu, Softplus, Rsqrt, Square, Softmax', async () => {
    const x = () => f32([4], [-2, -0.5, 1, 8]);
    expect(await unary('Relu', x())).toEqual([0, 0, 1, 8]);
    expect(await unary('Relu6', x())).toEqual([0, 0, 1, 6]);
    close(
      await unary('Sigmoid', x()),
      [-2, -0.5, 1, 8].map((v) => 1 / (1 + Math.exp(-v))),
    );
    close(await unary('Tanh', x()), [-2, -0.5, 1, 8].map(Math.tanh));
    close(await unary('Elu', x()), [Math.exp(-2) - 1, Math.exp(-0.5) - 1, 1, 8]);
    close(await unary('LeakyRelu', x(), { alpha: attr.float(0.1) }), [-0.2, -0.05, 1, 8]);
    close(
      await unary('Softplus', x()),
      [-2, -0.5, 1, 8].map((v) => Math.log1p(Math.exp(v))),
    );
    close(await unary('Rsqrt', f32([2], [4, 16])), [0.5, 0.25]);
    expect(await unary('Square', x())).toEqual([4, 0.25, 1, 64]);
    expect(await unary('Neg', x())).toEqual([2, 0.5, -1, -8]);
    close(await unary('Softmax', f32([2, 2], [0, Math.log(3), 1, 1])), [0.25, 0.75, 0.5, 0.5]);
    close(await unary('LogSoftmax', f32([1, 2], [0, 0])), [Math.log(0.5), Math.log(0.5)]);
    close(await unary('Erf', f32([2], [0, 1])), [0, 0.8427007929497149]);
  });

  it('BiasAdd adds along the last axis (NHWC) and along axis 1 for NCHW', async () => {
    const run = async (format: string, dims: number[]) =>
      (
        await runGraph(
          [
            placeholder('x', F32),
            constant('b', F32, [2], [10, 20]),
            node('y', 'BiasAdd', ['x', 'b'], { T: attr.type(F32), data_format: attr.str(format) }),
          ],
          signature({ x: ['x:0', F32, dims] }, { y: ['y:0', F32, dims] }),
          { x: f32(dims, [1, 2, 3, 4]) },
        )
      ).y!.values;
    expect(await run('NHWC', [1, 1, 2, 2])).toEqual([11, 22, 13, 24]);
    expect(await run('NCHW', [1, 2, 1, 2])).toEqual([11, 12, 23, 24]);
  });

  it('Cast, SelectV2 with broadcasting, Select with a row condition, LogicalAnd/Not', async () => {
    const out = await runGraph(
      [
        placeholder('x', F32),
        constant('zero', F32, [], [0]),
        node('pos', 'Greater', ['x', 'zero'], { T: attr.type(F32) }),
        node('cast', 'Cast', ['pos'], { SrcT: attr.type(BOOL), DstT: attr.type(I32) }),
        node('sel', 'SelectV2', ['pos', 'x', 'zero'], { T: attr.type(F32) }),
        constant('rows', BOOL, [2], [1, 0]),
        constant('other', F32, [2, 2], [9, 9, 9, 9]),
        node('rowsel', 'Select', ['rows', 'x', 'other'], { T: attr.type(F32) }),
        node('neg', 'LogicalNot', ['pos']),
        node('both', 'LogicalAnd', ['pos', 'neg']),
      ],
      signature(
        { x: ['x:0', F32, [2, 2]] },
        {
          c: ['cast:0', I32, null],
          s: ['sel:0', F32, null],
          r: ['rowsel:0', F32, null],
          n: ['both:0', BOOL, null],
        },
      ),
      { x: f32([2, 2], [-1, 2, 3, -4]) },
    );
    expect(out.c!.values).toEqual([0, 1, 1, 0]);
    expect(out.s!.values).toEqual([0, 2, 3, 0]);
    expect(out.r!.values).toEqual([-1, 2, 9, 9]);
    expect(out.n!.values).toEqual([0, 0, 0, 0]);
  });
});
