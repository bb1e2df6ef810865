import type { OpaqueTensor } from '../model.js';
import { BufferSource, type ByteSource } from '../tensor/byte-source.js';
import { dtypeFromNumpy } from '../tensor/dtype.js';
import { denseByteLength, type TensorRef } from '../tensor/tensor-ref.js';
import { judgeGlobal } from './policy.js';
import { type JoblibArray, numpyDescr } from './stream.js';
import { dictGet, isNode, type PickleValue, type PyCall } from './values.js';

const RECONSTRUCT = new Set(['numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct']);

function ints(value: PickleValue | undefined): number[] | undefined {
  if (!isNode(value ?? null) || (value as { kind: string }).kind !== 'tuple') return undefined;
  const items = (value as { items: PickleValue[] }).items;
  return items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
    ? (items as number[])
    : undefined;
}

/** Fortran order as element strides, so readTensorBytes gathers C order. */
function fortranStrides(shape: readonly number[]): number[] {
  const strides: number[] = [];
  let step = 1;
  for (const dim of shape) {
    strides.push(step);
    step *= dim;
  }
  return strides;
}

function latin1Bytes(text: string): Uint8Array | undefined {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) return undefined;
    out[i] = c;
  }
  return out;
}

function build(
  name: string,
  descrValue: PickleValue,
  shape: number[],
  fortran: boolean,
  source: ByteSource,
  offset: number,
  length: number,
): TensorRef | OpaqueTensor {
  const descr = numpyDescr(descrValue);
  const mapped = descr && !descr.hasObject ? dtypeFromNumpy(descr.descr) : undefined;
  if (!descr || !mapped) {
    return {
      name,
      type: descr?.descr ?? 'unknown',
      shape,
      byteLength: length,
      reason: 'NumPy dtype with no ferry dtype',
    };
  }
  const byteLength = denseByteLength(mapped.dtype, shape, source.name, name);
  if (byteLength !== length) {
    return {
      name,
      type: descr.descr,
      shape,
      byteLength: length,
      reason: `holds ${length} bytes, the shape needs ${byteLength}`,
    };
  }
  const strided = fortran && shape.length > 1;
  return {
    name,
    dtype: mapped.dtype,
    shape,
    source,
    offset,
    byteLength,
    ...(mapped.byteOrder === 'big' && { byteOrder: 'big' as const }),
    ...(strided && { strides: fortranStrides(shape) }),
  };
}

/**
 * NumPy arrays in a pickle graph as TensorRefs: joblib's inline arrays (ranges of the file),
 * ndarray.__reduce__ (`_reconstruct` + BUILD state with the data as bytes: a range of the file;
 * or as a latin-1 str under protocol 2: decoded into memory). Object arrays are opaque.
 */
export function numpyTensorOf(file: ByteSource, arrays: readonly JoblibArray[]) {
  const inline = new Map<PyCall, JoblibArray>(arrays.map((a) => [a.wrapper, a]));
  return (value: PickleValue, name: string): TensorRef | OpaqueTensor | undefined => {
    if (!isNode(value) || value.kind !== 'call') return undefined;
    const array = inline.get(value);
    if (array) {
      const state = value.states[value.states.length - 1];
      if (!isNode(state ?? null) || (state as { kind: string }).kind !== 'dict') return undefined;
      const dict = state as Parameters<typeof dictGet>[0];
      const shape = ints(dictGet(dict, 'shape')) ?? [];
      return build(
        name,
        dictGet(dict, 'dtype') ?? null,
        shape,
        dictGet(dict, 'order') === 'F',
        file,
        array.start,
        array.length,
      );
    }
    if (
      !isNode(value.callee) ||
      value.callee.kind !== 'global' ||
      !RECONSTRUCT.has(judgeGlobal(value.callee).name)
    ) {
      return undefined;
    }
    const state = value.states[0];
    if (!isNode(state ?? null) || (state as { kind: string }).kind !== 'tuple') return undefined;
    const [, shapeValue, dtype, fortran, data] = (state as { items: PickleValue[] }).items;
    const shape = ints(shapeValue);
    if (!shape) return undefined;
    if (isNode(data ?? null) && (data as { kind: string }).kind === 'bytes') {
      const bytes = data as { start: number; length: number };
      return build(name, dtype ?? null, shape, fortran === true, file, bytes.start, bytes.length);
    }
    // Protocol 2 under Python 3: _codecs.encode(text, 'latin1').
    if (isNode(data ?? null) && (data as { kind: string }).kind === 'call') {
      const call = data as PyCall;
      const text = call.args[0];
      if (
        isNode(call.callee) &&
        call.callee.kind === 'global' &&
        judgeGlobal(call.callee).name === '_codecs.encode' &&
        typeof text === 'string'
      ) {
        const bytes = latin1Bytes(text);
        if (bytes)
          return build(
            name,
            dtype ?? null,
            shape,
            fortran === true,
            new BufferSource(bytes, file.name),
            0,
            bytes.length,
          );
      }
    }
    if (typeof data === 'string') {
      const bytes = latin1Bytes(data);
      if (bytes)
        return build(
          name,
          dtype ?? null,
          shape,
          fortran === true,
          new BufferSource(bytes, file.name),
          0,
          bytes.length,
        );
    }
    return {
      name,
      type: numpyDescr(dtype ?? null)?.descr ?? 'object',
      shape,
      byteLength: 0,
      reason: 'object array (Python objects, not numbers)',
    };
  };
}
