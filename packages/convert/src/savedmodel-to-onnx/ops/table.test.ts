import { describe, expect, it } from 'vitest';
import {
  attr,
  BOOL,
  constant,
  F32,
  f32,
  I32,
  node,
  placeholder,
  runGraph,
  signature,
} from '../../../test/graph.helper.js';

/** Every remaining unary converter against Math on the same inputs. */
const UNARY: [string, (v: number) => number][] = [
  ['Abs', Math.abs],
  ['Exp', Math.exp],
  ['Log', Math.log],
  ['Sqrt', Math.sqrt],
  ['Floor', Math.floor],
  ['Ceil', Math.ceil],
  ['Sign', Math.sign],
  ['Sin', Math.sin],
  ['Cos', Math.cos],
  ['Tan', Math.tan],
  ['Reciprocal', (v) => 1 / v],
  ['Inv', (v) => 1 / v],
  ['Expm1', Math.expm1],
  ['Erfc', (v) => 1 - erf(v)],
  ['Log1p', Math.log1p],
  ['Softsign', (v) => v / (1 + Math.abs(v))],
  // Selu's constants (tensorflow/core/kernels/relu_op_functor.h).
  ['Selu', (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v))],
  ['StopGradient', (v) => v],
  ['Snapshot', (v) => v],
];

/** Abramowitz-Stegun 7.1.26 (error under 1.5e-7), enough to check Erfc to 5 places. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return Math.sign(x) * y;
}

const X = [0.25, 0.5, 1.5, 2.5, 3];

describe('unary converters, table-driven', () => {
  for (const [op, ref] of UNARY) {
    it(`${op} matches its definition`, async () => {
      const out = await runGraph(
        [placeholder('x', F32), node('y', op, ['x'], { T: attr.type(F32) })],
        signature({ x: ['x:0', F32, [X.length]] }, { y: ['y:0', F32, null] }),
        { x: f32([X.length], X) },
      );
      out.y!.values.forEach((v, i) => {
        expect(v).toBeCloseTo(ref(X[i]!), 5);
      });
    });
  }

  it('Round rounds half to even, as TF does', async () => {
    const out = await runGraph(
      [placeholder('x', F32), node('y', 'Round', ['x'], { T: attr.type(F32) })],
      signature({ x: ['x:0', F32, [4]] }, { y: ['y:0', F32, null] }),
      { x: f32([4], [0.5, 1.5, 2.5, -0.5]) },
    );
    expect(out.y!.values.map((v) => v + 0)).toEqual([0, 2, 2, 0]);
  });
});

describe('other converters', () => {
  it('DivNoNan gives 0 where the divisor is 0; AddN sums; IsNan', async () => {
    const out = await runGraph(
      [
        placeholder('x', F32),
        constant('d', F32, [3], [2, 0, 4]),
        node('q', 'DivNoNan', ['x', 'd'], { T: attr.type(F32) }),
        node('s', 'AddN', ['x', 'x', 'd'], { T: attr.type(F32), N: attr.int(3) }),
        node('n', 'IsNan', ['q'], { T: attr.type(F32) }),
      ],
      signature(
        { x: ['x:0', F32, [3]] },
        { q: ['q:0', F32, null], s: ['s:0', F32, null], n: ['n:0', BOOL, null] },
      ),
      { x: f32([3], [1, 5, 8]) },
    );
    expect(out.q!.values).toEqual([0.5, 0, 2]);
    expect(out.s!.values).toEqual([4, 10, 20]);
    expect(out.n!.values).toEqual([0, 0, 0]);
  });

  it('MirrorPad REFLECT, the old Concat (axis first), Gather', async () => {
    const out = await runGraph(
      [
        placeholder('x', F32),
        constant('p', I32, [1, 2], [2, 1]),
        node('m', 'MirrorPad', ['x', 'p'], { T: attr.type(F32), mode: attr.str('REFLECT') }),
        constant('axis', I32, [], [0]),
        node('c', 'Concat', ['axis', 'x', 'x'], { T: attr.type(F32), N: attr.int(2) }),
        constant('i', I32, [2], [2, 0]),
        node('g', 'Gather', ['x', 'i'], { Tparams: attr.type(F32) }),
      ],
      signature(
        { x: ['x:0', F32, [3]] },
        { m: ['m:0', F32, null], c: ['c:0', F32, null], g: ['g:0', F32, null] },
      ),
      { x: f32([3], [1, 2, 3]) },
    );
    expect(out.m!.values).toEqual([3, 2, 1, 2, 3, 2]);
    expect(out.c!.values).toEqual([1, 2, 3, 1, 2, 3]);
    expect(out.g!.values).toEqual([3, 1]);
  });

  it('MirrorPad SYMMETRIC is refused naming the node', async () => {
    await expect(
      runGraph(
        [
          placeholder('x', F32),
          constant('p', I32, [1, 2], [1, 1]),
          node('m', 'MirrorPad', ['x', 'p'], { T: attr.type(F32), mode: attr.str('SYMMETRIC') }),
        ],
        signature({ x: ['x:0', F32, [3]] }, { m: ['m:0', F32, null] }),
        {},
      ),
    ).rejects.toThrow('op MirrorPad (node m in graph) has no ONNX conversion: MirrorPad mode SYMMETRIC');
  });
});
