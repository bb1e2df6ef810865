/**
 * Scale and zero point as onnxruntime's quantizer computes them
 * (onnxruntime/python/tools/quantization/quant_utils.py: get_qmin_qmax_for_qType,
 * compute_scale_zp, quantize_nparray).
 */
export type QuantType = 'int8' | 'uint8';

/**
 * The integer range. reduce_range keeps 7 bits so that u8 x s8 products summed in pairs fit
 * int16 on CPUs without VNNI (VPMADDUBSW saturates), as onnxruntime documents.
 */
export function qRange(type: QuantType, reduceRange: boolean, symmetric: boolean): [number, number] {
  if (type === 'uint8') return reduceRange ? [0, 127] : [0, 255];
  if (reduceRange) return [-64, 64];
  return symmetric ? [-127, 127] : [-128, 127];
}

export interface ScaleZeroPoint {
  readonly scale: number;
  readonly zeroPoint: number;
}

/** The range always includes 0, so that 0 (padding, ReLU) is exact. */
export function scaleZeroPoint(
  rmin: number,
  rmax: number,
  qmin: number,
  qmax: number,
  symmetric: boolean,
): ScaleZeroPoint {
  let lo = Math.min(rmin, 0);
  let hi = Math.max(rmax, 0);
  if (symmetric) {
    const absmax = Math.max(Math.abs(lo), Math.abs(hi));
    lo = -absmax;
    hi = absmax;
  }
  // onnxruntime computes the scale in float64, derives the zero point from it, then stores the
  // scale as float32.
  const scale64 = (hi - lo) / (qmax - qmin);
  // A constant-zero tensor (or one whose range underflows float32) gets scale 1, as onnxruntime does.
  if (!(scale64 >= 1.1754943508222875e-38) || hi === lo) return { scale: 1, zeroPoint: symmetric ? 0 : qmin };
  const zeroPoint = symmetric ? roundHalfEven((qmin + qmax) / 2) : roundHalfEven(qmin - lo / scale64);
  return { scale: Math.fround(scale64), zeroPoint: Math.min(qmax, Math.max(qmin, zeroPoint)) };
}

/** numpy.rint: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface QuantizedWeight {
  readonly values: Int8Array;
  /** One scale per channel along `axis`, or one. */
  readonly scales: Float32Array;
  readonly zeroPoints: Int8Array;
  readonly axis?: number;
}

/**
 * Symmetric int8 quantization of a weight (onnxruntime's default for QInt8 weights), per tensor
 * or per channel along `axis`.
 */
export function quantizeWeight(
  data: Float32Array,
  shape: readonly number[],
  options: { axis?: number; reduceRange: boolean },
): QuantizedWeight {
  const [qmin, qmax] = qRange('int8', options.reduceRange, true);
  const out = new Int8Array(data.length);
  const axis = options.axis;
  if (axis === undefined) {
    let lo = 0;
    let hi = 0;
    for (const v of data) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const { scale, zeroPoint } = scaleZeroPoint(lo, hi, qmin, qmax, true);
    for (let i = 0; i < data.length; i++) out[i] = quantizeValue(data[i]!, scale, zeroPoint, qmin, qmax);
    return { values: out, scales: Float32Array.of(scale), zeroPoints: Int8Array.of(zeroPoint) };
  }
  const channels = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const scales = new Float32Array(channels);
  const zeroPoints = new Int8Array(channels);
  const channelOf = (o: number, c: number, i: number) => (o * channels + c) * inner + i;
  for (let c = 0; c < channels; c++) {
    let lo = 0;
    let hi = 0;
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const v = data[channelOf(o, c, i)]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    const { scale, zeroPoint } = scaleZeroPoint(lo, hi, qmin, qmax, true);
    scales[c] = scale;
    zeroPoints[c] = zeroPoint;
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const at = channelOf(o, c, i);
        out[at] = quantizeValue(data[at]!, scale, zeroPoint, qmin, qmax);
      }
  }
  return { values: out, scales, zeroPoints, axis };
}

export function quantizeValue(
  v: number,
  scale: number,
  zeroPoint: number,
  qmin: number,
  qmax: number,
): number {
  // float32 division as numpy does it on float32 arrays (quantize_nparray), then rint.
  const q = roundHalfEven(Math.fround(v / scale)) + zeroPoint;
  return Math.min(qmax, Math.max(qmin, q));
}
