import { describe, expect, it } from 'vitest';
import {
  attr,
  BOOL,
  constant,
  F32,
  f32,
  I32,
  I64,
  node,
  placeholder,
  runGraph,
  signature,
} from '../../../test/graph.helper.js';

async function reduce(op: string, axes: number[], keep: boolean, outType = F32, extra = {}) {
  const out = await runGraph(
    [
      placeholder('x', F32),
      constant('axes', I32, [axes.length], axes),
      node('y', op, ['x', 'axes'], { T: attr.type(F32), keep_dims: attr.bool(keep), ...extra }),
    ],
    signature({ x: ['x:0', F32, [2, 2]] }, { y: ['y:0', outType, null] }),
    { x: f32([2, 2], [1, 2, 3, 5]) },
  );
  return out.y!;
}

describe('reduction converters', () => {
  it('Mean, Sum, Max, Min, Prod over constant axes, with and without keep_dims', async () => {
    expect(await reduce('Mean', [1], false)).toEqual({ dims: [2], values: [1.5, 4] });
    expect(await reduce('Sum', [0], true)).toEqual({ dims: [1, 2], values: [4, 7] });
    expect(await reduce('Sum', [-1], false)).toEqual({ dims: [2], values: [3, 8] });
    expect(await reduce('Max', [0, 1], false)).toEqual({ dims: [], values: [5] });
    expect(await reduce('Min', [1], false)).toEqual({ dims: [2], values: [1, 3] });
    expect(await reduce('Prod', [0], false)).toEqual({ dims: [2], values: [3, 10] });
  });

  it('empty axes reduce nothing (TF), not everything (ONNX default)', async () => {
    expect(await reduce('Sum', [], false)).toEqual({ dims: [2, 2], values: [1, 2, 3, 5] });
  });

  it('ArgMax/ArgMin give int64 by default and int32 when output_type says so', async () => {
    const max = await reduce('ArgMax', [1], false, I64);
    expect(max).toEqual({ dims: [2], values: [1, 1] });
    const min = await reduce('ArgMin', [0], false, I32, { output_type: attr.type(I32) });
    expect(min).toEqual({ dims: [2], values: [0, 0] });
  });

  it('All and Any reduce bools', async () => {
    const out = await runGraph(
      [
        placeholder('x', F32),
        constant('zero', F32, [], [1.5]),
        node('b', 'Greater', ['x', 'zero'], { T: attr.type(F32) }),
        constant('axes', I32, [1], [1]),
        node('all', 'All', ['b', 'axes'], { keep_dims: attr.bool(false) }),
        node('any', 'Any', ['b', 'axes'], { keep_dims: attr.bool(false) }),
      ],
      signature({ x: ['x:0', F32, [2, 2]] }, { all: ['all:0', BOOL, null], any: ['any:0', BOOL, null] }),
      { x: f32([2, 2], [1, 2, 3, 5]) },
    );
    expect(out.all!.values).toEqual([0, 1]);
    expect(out.any!.values).toEqual([1, 1]);
  });

  it('non-constant axes fail naming the node', async () => {
    await expect(
      runGraph(
        [
          placeholder('x', F32),
          placeholder('axes', I32),
          node('y', 'Mean', ['x', 'axes'], { T: attr.type(F32) }),
        ],
        signature({ x: ['x:0', F32, null], a: ['axes:0', I32, null] }, { y: ['y:0', F32, null] }),
        {},
      ),
    ).rejects.toThrow(/node y \(Mean in graph\): its reduction axes \(input 1\) must be a constant/);
  });
});
