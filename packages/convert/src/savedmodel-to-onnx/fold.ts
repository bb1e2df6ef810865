import type { Val } from './context.js';
import { baseDtype, readInts, TF_INT32, TF_INT64 } from './dtypes.js';
import type { FrozenValue } from './freeze.js';
import type { FlatNode } from './inline.js';

/**
 * Constant folding of the small integer computations exporters leave in graphs (Keras' Tensordot
 * builds a Transpose permutation with ConcatV2 of two constants; output shapes are Packs of
 * constants). Ops whose ONNX form needs numbers (Transpose perm, reduction axes) then see them.
 * Only int32/int64 tensors of at most MAX_FOLD_ELEMENTS values are folded; the ONNX nodes stay
 * and drop out when nothing reads them.
 */
export const MAX_FOLD_ELEMENTS = 4096;

const isInt = (dtype: number): boolean => baseDtype(dtype) === TF_INT32 || baseDtype(dtype) === TF_INT64;

function ints(v: Val | undefined): number[] | null {
  if (!v?.konst || !isInt(v.konst.dtype) || v.konst.dims.length > 1) return null;
  const values = readInts(v.konst.dtype, v.konst.bytes);
  return values.length <= MAX_FOLD_ELEMENTS ? values : null;
}

function make(dtype: number, dims: number[], values: readonly number[]): FrozenValue {
  const size = baseDtype(dtype) === TF_INT64 ? 8 : 4;
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    if (size === 8) view.setBigInt64(i * 8, BigInt(v), true);
    else view.setInt32(i * 4, v, true);
  });
  return { dtype: baseDtype(dtype), dims, bytes };
}

const elementwise = (a: number[], b: number[], f: (x: number, y: number) => number): number[] | null => {
  if (a.length === b.length) return a.map((x, i) => f(x, b[i]!));
  if (a.length === 1) return b.map((y) => f(a[0]!, y));
  if (b.length === 1) return a.map((x) => f(x, b[0]!));
  return null;
};

/** The folded value of node's output 0, or null when it is not a small integer constant. */
export function foldConstant(node: FlatNode, inputs: readonly Val[], outDtype: number): FrozenValue | null {
  if (!isInt(outDtype)) return null;
  const all = inputs.map(ints);
  const scalar = (v: Val | undefined) => v?.konst?.dims.length === 0;
  switch (node.op) {
    case 'ConcatV2': {
      const parts = all.slice(0, -1);
      if (parts.some((p) => p === null) || inputs.slice(0, -1).some(scalar)) return null;
      const values = parts.flat() as number[];
      return make(outDtype, [values.length], values);
    }
    case 'Pack': {
      if (all.some((p) => p === null) || !inputs.every(scalar)) return null;
      return make(
        outDtype,
        [all.length],
        all.map((p) => p![0]!),
      );
    }
    case 'Cast':
      return all[0] ? make(outDtype, [...inputs[0]!.konst!.dims], all[0]) : null;
    case 'Add':
    case 'AddV2':
    case 'Sub':
    case 'Mul': {
      const [a, b] = all;
      if (!a || !b) return null;
      const f =
        node.op === 'Sub'
          ? (x: number, y: number) => x - y
          : node.op === 'Mul'
            ? (x: number, y: number) => x * y
            : (x: number, y: number) => x + y;
      const values = elementwise(a, b, f);
      if (!values) return null;
      const dims = scalar(inputs[0]) && scalar(inputs[1]) ? [] : [values.length];
      return make(outDtype, dims, values);
    }
    case 'Range': {
      const [start, limit, delta] = all.map((p) => p?.[0]);
      if (start === undefined || limit === undefined || delta === undefined || delta === 0) return null;
      const values: number[] = [];
      for (let v = start; delta > 0 ? v < limit : v > limit; v += delta) {
        if (values.length >= MAX_FOLD_ELEMENTS) return null;
        values.push(v);
      }
      return make(outDtype, [values.length], values);
    }
    default:
      return null;
  }
}

/** For a Pack of scalars some of which are constants: the known values, null where unknown. */
export function packedElements(node: FlatNode, inputs: readonly Val[]): (number | null)[] | null {
  if (node.op !== 'Pack' || !inputs.every((v) => v.rank === 0 || v.konst?.dims.length === 0)) return null;
  return inputs.map((v) => ints(v)?.[0] ?? null);
}
