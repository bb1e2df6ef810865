import { describe, expect, it } from 'vitest';
import { qRange, quantizeWeight, roundHalfEven, scaleZeroPoint } from './params.js';

describe('quantization parameters (onnxruntime quant_utils.py)', () => {
  it('integer ranges as get_qmin_qmax_for_qType', () => {
    expect(qRange('int8', false, true)).toEqual([-127, 127]);
    expect(qRange('int8', false, false)).toEqual([-128, 127]);
    expect(qRange('int8', true, true)).toEqual([-64, 64]);
    expect(qRange('uint8', false, false)).toEqual([0, 255]);
    expect(qRange('uint8', true, false)).toEqual([0, 127]);
  });

  it('rounds half to even like numpy.rint', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2, -3]);
  });

  it('symmetric int8: scale = absmax / 127, zero point 0', () => {
    expect(scaleZeroPoint(-0.5, 2.54, -127, 127, true)).toEqual({
      scale: Math.fround(2.54 / 127),
      zeroPoint: 0,
    });
  });

  it('asymmetric uint8 includes 0 in the range: [1, 3] becomes [0, 3]', () => {
    const p = scaleZeroPoint(1, 3, 0, 255, false);
    expect(p.scale).toBe(Math.fround(3 / 255));
    expect(p.zeroPoint).toBe(0);
    const q = scaleZeroPoint(-1, 3, 0, 255, false);
    expect(q.zeroPoint).toBe(roundHalfEven(1 / Math.fround(4 / 255)));
  });

  it('a constant-zero tensor gets scale 1', () => {
    expect(scaleZeroPoint(0, 0, -127, 127, true)).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('per tensor: every value within half a step, extremes at +-127', () => {
    const data = Float32Array.from([0.1, -0.3, 1.27, -1.27, 0.005, 0]);
    const w = quantizeWeight(data, [2, 3], { reduceRange: false });
    expect(w.scales[0]).toBeCloseTo(0.01, 7);
    expect([...w.values]).toEqual([10, -30, 127, -127, 0, 0]);
    for (let i = 0; i < data.length; i++)
      expect(Math.abs(w.values[i]! * w.scales[0]! - data[i]!)).toBeLessThanOrEqual(w.scales[0]! / 2 + 1e-9);
  });

  it('per channel along axis 1 of [K, N] and axis 0 of [M, C, kh, kw]', () => {
    // Column 0 spans 1.27, column 1 spans 0.0127: one scale each.
    const kn = quantizeWeight(Float32Array.from([1.27, 0.0127, -0.635, -0.00635]), [2, 2], {
      axis: 1,
      reduceRange: false,
    });
    expect([...kn.values]).toEqual([127, 127, -64, -64]);
    expect(kn.scales[1]! / kn.scales[0]!).toBeCloseTo(0.01, 6);
    const conv = quantizeWeight(Float32Array.from([1, -2, 4, 8]), [2, 1, 1, 2], {
      axis: 0,
      reduceRange: false,
    });
    expect([...conv.values]).toEqual([64, -127, 64, 127]);
    expect([...conv.scales]).toEqual([Math.fround(2 / 127), Math.fround(8 / 127)]);
  });
});
