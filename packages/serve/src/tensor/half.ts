/**
 * IEEE 754 binary16 and bfloat16 <-> number. Node 20 has no Float16Array or Math.f16round, and
 * JSON carries FP16/BF16 as ordinary numbers, so the server rounds them itself
 * (round to nearest, ties to even, as numpy and torch do).
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

export function numberToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const abs = Math.abs(value);
  if (abs >= 65520) return sign | 0x7c00; // rounds to infinity past the largest half, 65504
  if (abs < 2 ** -25) return sign; // below half the smallest subnormal: zero
  if (abs < 2 ** -14) {
    // subnormal: units of 2^-24, ties to even
    return sign | roundHalfEven(abs * 2 ** 24);
  }
  let exponent = Math.floor(Math.log2(abs));
  if (2 ** exponent > abs) exponent -= 1; // log2 rounding at exact powers
  if (2 ** (exponent + 1) <= abs) exponent += 1;
  let mantissa = roundHalfEven((abs / 2 ** exponent - 1) * 1024);
  if (mantissa === 1024) {
    mantissa = 0;
    exponent += 1;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | mantissa;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export function bfloat16ToNumber(bits: number): number {
  u32[0] = bits << 16;
  return f32[0]!;
}

export function numberToBfloat16(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  if (Number.isNaN(f32[0])) return 0x7fc0;
  // round the float32 to its top 16 bits, ties to even
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}
