import { stat } from 'node:fs/promises';
import type { FormatName, OpenedModel, OpenOptions } from './model.js';
import { sha256File } from './io/hash-file.js';
import { openModel } from './open.js';
import { readTensorChunks } from './tensor/chunks.js';
import { type DType, dtypeSize } from './tensor/dtype.js';
import { numel, type TensorRef } from './tensor/tensor-ref.js';
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
  /**
   * `tensors` normally; `bytes` when neither model holds a tensor (a graph without weights, an
   * estimator of scalars): then only identical files are equal, never "0 of 0 tensors match".
   */
  readonly comparedBy: 'tensors' | 'bytes';
  /**
   * Opaque tensors (no ferry dtype: object or record arrays, quantized storages), which are not
   * compared; named so none is skipped silently (issue #22.3). One present on one side only
   * makes the models unequal, like any name only in A or B.
   */
  readonly notCompared: readonly NotCompared[];
}

export interface NotCompared {
  readonly name: string;
  /** `type: reason` on each side that holds it. */
  readonly a?: string;
  readonly b?: string;
}

/**
 * Compares two models of any formats tensor by tensor, matched by name. Streaming: one pair of
 * tensors at a time, in steps of ELEMENTS_PER_STEP elements, so memory stays at a few MiB.
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
      const byName = tensorsWithTiedNames(b);
      const inA = tensorsWithTiedNames(a);
      const common = a.tensors.filter((t) => byName.has(t.name));
      // a tied name written once (convert records `removed -> kept` in metadata) still compares
      const tiedInA = b.tensors.filter((t) => !a.tensors.some((x) => x.name === t.name) && inA.has(t.name));
      const pairs = [
        ...common.map((ta) => [ta, byName.get(ta.name)!] as const),
        ...tiedInA.map((tb) => [{ ...inA.get(tb.name)!, name: tb.name }, tb] as const),
      ];
      const tensors: TensorDiff[] = [];
      for (const [index, [ta, tb]] of pairs.entries()) {
        tensors.push(await diffTensor(ta, { ...tb, name: ta.name }, atol));
        options.onProgress?.(index + 1, pairs.length, ta.name);
      }
      const onlyInA = a.tensors.filter((t) => !byName.has(t.name)).map((t) => t.name);
      const onlyInB = b.tensors.filter((t) => !inA.has(t.name)).map((t) => t.name);
      const noTensors = [a, b].every((m) => m.tensors.length === 0 && (m.opaque ?? []).length === 0);
      const comparedBy = noTensors && (await bothFiles(pathA, pathB)) ? 'bytes' : 'tensors';
      const sameBytes = comparedBy === 'tensors' || (await sha256File(pathA)) === (await sha256File(pathB));
      const notCompared = opaquePairs(a, b);
      return {
        a: { path: pathA, format: a.format, tensors: a.tensors.length },
        b: { path: pathB, format: b.format, tensors: b.tensors.length },
        atol,
        comparedBy,
        equal:
          sameBytes &&
          onlyInA.length === 0 &&
          onlyInB.length === 0 &&
          notCompared.every((t) => t.a !== undefined && t.b !== undefined) &&
          tensors.every((t) => t.status === 'equal' || t.status === 'within-atol'),
        onlyInA,
        onlyInB,
        tensors,
        notCompared,
      };
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

async function bothFiles(pathA: string, pathB: string): Promise<boolean> {
  const [a, b] = await Promise.all([stat(pathA), stat(pathB)]);
  return a.isFile() && b.isFile();
}

function opaquePairs(a: OpenedModel, b: OpenedModel): NotCompared[] {
  const out = new Map<string, { name: string; a?: string; b?: string }>();
  for (const [side, model] of [
    ['a', a],
    ['b', b],
  ] as const) {
    for (const t of model.opaque ?? []) {
      const entry = out.get(t.name) ?? { name: t.name };
      entry[side] = `${t.type}: ${t.reason}`;
      out.set(t.name, entry);
    }
  }
  return [...out.values()];
}

/**
 * A model's tensors by name, plus the tied names a converter wrote once: metadata entries
 * `removed -> kept` whose key is no tensor and whose value is one (safetensors' convert.py
 * convention, which ferry's convert follows).
 */
function tensorsWithTiedNames(model: OpenedModel): Map<string, TensorRef> {
  const byName = new Map(model.tensors.map((t) => [t.name, t]));
  for (const [removed, kept] of Object.entries(model.metadata)) {
    const target = byName.get(kept);
    if (target && !byName.has(removed)) byName.set(removed, { ...target, name: removed });
  }
  return byName;
}

async function diffTensor(a: TensorRef, b: TensorRef, atol: number): Promise<TensorDiff> {
  const base = { name: a.name, dtypeA: a.dtype, dtypeB: b.dtype, shapeA: a.shape, shapeB: b.shape };
  const sameShape = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (!sameShape) return { ...base, status: 'shape-mismatch', maxAbsDiff: null, withinAtol: false };
  const max = await streamMaxAbsDifference(a, b);
  const withinAtol = max <= atol;
  const status: TensorDiffStatus =
    a.dtype !== b.dtype ? 'dtype-mismatch' : max === 0 ? 'equal' : withinAtol ? 'within-atol' : 'different';
  return { ...base, status, maxAbsDiff: max, withinAtol };
}

/** Elements compared per step: bounds memory to a few MiB per side whatever the tensor size. */
const ELEMENTS_PER_STEP = 1 << 20;

/** Walks both tensors in element-aligned steps through reused chunk buffers. */
async function streamMaxAbsDifference(a: TensorRef, b: TensorRef): Promise<number> {
  const sizeA = dtypeSize(a.dtype);
  const sizeB = dtypeSize(b.dtype);
  const cursorA = new ChunkCursor(readTensorChunks(a, new Uint8Array(ELEMENTS_PER_STEP * sizeA)));
  const cursorB = new ChunkCursor(readTensorChunks(b, new Uint8Array(ELEMENTS_PER_STEP * sizeB)));
  let max = 0;
  for (let left = numel(a.shape); left > 0; ) {
    const step = Math.min(ELEMENTS_PER_STEP, left);
    left -= step;
    const bytesA = await cursorA.take(step * sizeA);
    const bytesB = await cursorB.take(step * sizeB);
    if (a.dtype === b.dtype && Buffer.from(bytesA.buffer, bytesA.byteOffset, bytesA.length).equals(bytesB))
      continue;
    max = Math.max(max, maxAbsDifference(decodeValues(a.dtype, bytesA), decodeValues(b.dtype, bytesB)));
  }
  return max;
}

/** Hands out exact byte counts from a chunk stream, copying only where a request spans chunks. */
class ChunkCursor {
  private chunk: Uint8Array = new Uint8Array(0);
  private at = 0;
  constructor(private readonly chunks: AsyncGenerator<Uint8Array>) {}

  /** A view valid until the next call. */
  async take(length: number): Promise<Uint8Array> {
    if (this.at === this.chunk.length) await this.next();
    if (this.chunk.length - this.at >= length) {
      this.at += length;
      return this.chunk.subarray(this.at - length, this.at);
    }
    const out = new Uint8Array(length);
    for (let filled = 0; filled < length; ) {
      if (this.at === this.chunk.length) await this.next();
      const n = Math.min(length - filled, this.chunk.length - this.at);
      out.set(this.chunk.subarray(this.at, this.at + n), filled);
      this.at += n;
      filled += n;
    }
    return out;
  }

  private async next(): Promise<void> {
    const { value, done } = await this.chunks.next();
    // Sources are checked against their declared size when read, so running dry is a broken source.
    if (done) throw new Error('tensor stream ended early');
    this.chunk = value;
    this.at = 0;
  }
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
