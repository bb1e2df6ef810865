import type { FormatName, OpenOptions } from './model.js';
import { openModel } from './open.js';
import type { DType } from './tensor/dtype.js';
import { readTensorBytes, type TensorRef } from './tensor/tensor-ref.js';
import { decodeValues } from './tensor/values.js';

export interface DiffOptions extends OpenOptions {
  /** Largest absolute difference still counted as equal (default 0: exact). */
  readonly atol?: number;
  readonly onProgress?: (done: number, total: number, tensor: string) => void;
}

export type TensorDiffStatus = 'equal' | 'within-atol' | 'different' | 'dtype-mismatch' | 'shape-mismatch';

export interface TensorDiff {
  readonly name: string;
  readonly status: TensorDiffStatus;
  readonly dtypeA: DType;
  readonly dtypeB: DType;
  readonly shapeA: readonly number[];
  readonly shapeB: readonly number[];
  /**
   * Largest |a - b| over all elements, compared as float64 (also across dtypes when shapes
   * match); Infinity where one side is NaN or an infinity the other lacks; null when shapes differ.
   */
  readonly maxAbsDiff: number | null;
  readonly withinAtol: boolean;
}

export interface DiffReport {
  readonly a: { readonly path: string; readonly format: FormatName; readonly tensors: number };
  readonly b: { readonly path: string; readonly format: FormatName; readonly tensors: number };
  readonly atol: number;
  /** True when both hold the same names, dtypes, shapes, and values within atol. */
  readonly equal: boolean;
  readonly onlyInA: readonly string[];
  readonly onlyInB: readonly string[];
  /** Every tensor present on both sides, in A's order. */
  readonly tensors: readonly TensorDiff[];
}

/**
 * Compares two models of any formats tensor by tensor, matched by name. Streaming: only one
 * pair of tensors is in memory at a time.
 */
export async function diffModels(
  pathA: string,
  pathB: string,
  options: DiffOptions = {},
): Promise<DiffReport> {
  const atol = options.atol ?? 0;
  const a = await openModel(pathA, options);
  try {
    const b = await openModel(pathB, options);
    try {
      const byName = new Map(b.tensors.map((t) => [t.name, t]));
      const inA = new Set(a.tensors.map((t) => t.name));
      const common = a.tensors.filter((t) => byName.has(t.name));
      const tensors: TensorDiff[] = [];
      for (const [index, ta] of common.entries()) {
        tensors.push(await diffTensor(ta, byName.get(ta.name)!, atol));
        options.onProgress?.(index + 1, common.length, ta.name);
      }
      const onlyInA = a.tensors.filter((t) => !byName.has(t.name)).map((t) => t.name);
      const onlyInB = b.tensors.filter((t) => !inA.has(t.name)).map((t) => t.name);
      return {
        a: { path: pathA, format: a.format, tensors: a.tensors.length },
        b: { path: pathB, format: b.format, tensors: b.tensors.length },
        atol,
        equal:
          onlyInA.length === 0 &&
          onlyInB.length === 0 &&
          tensors.every((t) => t.status === 'equal' || t.status === 'within-atol'),
        onlyInA,
        onlyInB,
        tensors,
      };
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

async function diffTensor(a: TensorRef, b: TensorRef, atol: number): Promise<TensorDiff> {
  const base = { name: a.name, dtypeA: a.dtype, dtypeB: b.dtype, shapeA: a.shape, shapeB: b.shape };
  const sameShape = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (!sameShape) return { ...base, status: 'shape-mismatch', maxAbsDiff: null, withinAtol: false };
  const bytesA = await readTensorBytes(a);
  const bytesB = await readTensorBytes(b);
  let max: number;
  if (a.dtype === b.dtype && Buffer.from(bytesA.buffer, bytesA.byteOffset, bytesA.length).equals(bytesB)) {
    max = 0;
  } else {
    max = maxAbsDifference(decodeValues(a.dtype, bytesA), decodeValues(b.dtype, bytesB));
  }
  const withinAtol = max <= atol;
  const status: TensorDiffStatus =
    a.dtype !== b.dtype ? 'dtype-mismatch' : max === 0 ? 'equal' : withinAtol ? 'within-atol' : 'different';
  return { ...base, status, maxAbsDiff: max, withinAtol };
}

/** NaN equals NaN and an infinity equals itself (same position, same value); otherwise |a - b|. */
export function maxAbsDifference(a: Float64Array, b: Float64Array): number {
  // A complex tensor against a real one decodes to different lengths: compare what lines up.
  const n = Math.min(a.length, b.length);
  let max = a.length === b.length ? 0 : Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    const d = Math.abs(x - y);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    if (d > max) max = d;
  }
  return max;
}
