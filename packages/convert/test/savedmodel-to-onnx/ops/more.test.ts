import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { attr, constant, F32, f32, I32, node, placeholder, runGraph, signature } from '../../graph.helper.js';

const T = { T: attr.type(F32) };

describe('more converters', () => {
  it('FusedBatchNormV3 with is_training=true (Keras LayerNormalization) uses the batch statistics', async () => {
    const out = await runGraph(
      [
        placeholder('x', F32),
        constant('scale', F32, [2], [1, 2]),
        constant('offset', F32, [2], [0, 10]),
        constant('empty', F32, [0], []),
        node('y', 'FusedBatchNormV3', ['x', 'scale', 'offset', 'empty', 'empty'], {
          ...T,
          epsilon: attr.float(0),
          is_training: attr.bool(true),
          data_format: attr.str('NHWC'),
        }),
      ],
      signature({ x: ['x:0', F32, [1, 1, 2, 2]] }, { y: ['y:0', F32, null], m: ['y:1', F32, null] }),
      { x: f32([1, 1, 2, 2], [1, 2, 3, 0]) },
    );
    // Channel 0 holds 1, 3 (mean 2, variance 1); channel 1 holds 2, 0 (mean 1, variance 1).
    expect(out.y!.values).toEqual([-1, 12, 1, 8]);
    expect(out.m!.values).toEqual([2, 1]);
  });

  it('ClipByValue, BroadcastTo, Cumsum (plain and exclusive+reverse)', async () => {
    const out = await runGraph(
      [
        placeholder('x', F32),
        constant('lo', F32, [], [0]),
        constant('hi', F32, [], [1]),
        node('clip', 'ClipByValue', ['x', 'lo', 'hi'], T),
        constant('shape', I32, [2], [2, 3]),
        node('bcast', 'BroadcastTo', ['x', 'shape'], T),
        constant('axis', I32, [], [0]),
        node('cum', 'Cumsum', ['x', 'axis'], T),
        node('rcum', 'Cumsum', ['x', 'axis'], { ...T, exclusive: attr.bool(true), reverse: attr.bool(true) }),
      ],
      signature(
        { x: ['x:0', F32, [3]] },
        {
          clip: ['clip:0', F32, null],
          bcast: ['bcast:0', F32, null],
          cum: ['cum:0', F32, null],
          rcum: ['rcum:0', F32, null],
        },
      ),
      { x: f32([3], [-2, 0.5, 9]) },
    );
    expect(out.clip!.values).toEqual([0, 0.5, 1]);
    expect(out.bcast).toEqual({ dims: [2, 3], values: [-2, 0.5, 9, -2, 0.5, 9] });
    expect(out.cum!.values).toEqual([-2, -1.5, 7.5]);
    expect(out.rcum!.values).toEqual([9.5, 9, 0]);
  });

  it('OneHot and TopKV2 (int32 indices)', async () => {
    const out = await runGraph(
      [
        placeholder('ids', I32),
        constant('depth', I32, [], [3]),
        constant('on', F32, [], [5]),
        constant('off', F32, [], [0]),
        node('hot', 'OneHot', ['ids', 'depth', 'on', 'off'], { T: attr.type(F32), axis: attr.int(-1) }),
        placeholder('x', F32),
        constant('k', I32, [], [2]),
        node('top', 'TopKV2', ['x', 'k'], T),
      ],
      signature(
        { ids: ['ids:0', I32, [2]], x: ['x:0', F32, [3]] },
        { hot: ['hot:0', F32, null], values: ['top:0', F32, null], indices: ['top:1', I32, null] },
      ),
      { ids: new ort.Tensor('int32', Int32Array.from([0, 2]), [2]), x: f32([3], [1, 3, 2]) },
    );
    expect(out.hot).toEqual({ dims: [2, 3], values: [5, 0, 0, 0, 0, 5] });
    expect(out.values!.values).toEqual([3, 2]);
    expect(out.indices!.values).toEqual([1, 2]);
  });

  it("Keras' dynamic Flatten: Shape -> StridedSlice -> Pack -> Reshape with an unknown batch", async () => {
    const nodes = [
      placeholder('x', F32),
      node('shape', 'Shape', ['x'], { T: attr.type(F32), out_type: attr.type(I32) }),
      constant('b', I32, [1], [0]),
      constant('e', I32, [1], [1]),
      constant('s', I32, [1], [1]),
      node('batch', 'StridedSlice', ['shape', 'b', 'e', 's'], {
        T: attr.type(I32),
        shrink_axis_mask: attr.int(1),
      }),
      constant('rest', I32, [], [-1]),
      node('target', 'Pack', ['batch', 'rest'], { T: attr.type(I32), N: attr.int(2), axis: attr.int(0) }),
      node('y', 'Reshape', ['x', 'target'], T),
    ];
    const sig = signature({ x: ['x:0', F32, [-1, 2, 2]] }, { y: ['y:0', F32, [-1, 4]] });
    for (const batch of [1, 3]) {
      const values = Array.from({ length: batch * 4 }, (_, i) => i);
      const out = await runGraph(nodes, sig, { x: f32([batch, 2, 2], values) });
      expect(out.y).toEqual({ dims: [batch, 4], values });
    }
  });
});
