import type { OpaqueTensor } from '../model.js';
import { BufferSource, type ByteSource } from '../tensor/byte-source.js';
import { dtypeFromNumpy } from '../tensor/dtype.js';
import { denseByteLength, type TensorRef } from '../tensor/tensor-ref.js';
import type { TensorOf } from './flatten.js';
import { MASKED_RECONSTRUCTORS, NDARRAY_RECONSTRUCTORS } from './numpy-classes.js';
import { judgeGlobal } from './policy.js';
import { numpyDtype } from './numpy-dtype.js';
import { type JoblibArray, numpyDescr } from './stream.js';
import { dictGet, isNode, type PickleValue, type PyCall } from './values.js';

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

type Descr = { readonly descr: string; readonly hasObject: boolean } | undefined;

/** numpy.ma.make_mask_descr of a plain dtype: one bool per element. */
const MASK_DTYPE: Descr = { descr: '|b1', hasObject: false };

function build(
  name: string,
  descr: Descr,
  shape: number[],
  fortran: boolean,
  source: ByteSource,
  offset: number,
  length: number,
): TensorRef | OpaqueTensor {
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
export function numpyTensorOf(file: ByteSource, arrays: readonly JoblibArray[]): TensorOf {
  const inline = new Map<PyCall, JoblibArray>(arrays.map((a) => [a.wrapper, a]));
  return (value, name) => {
    if (!isNode(value) || value.kind !== 'call') return undefined;
    const array = inline.get(value);
    if (array) {
      const state = value.states[value.states.length - 1];
      if (!isNode(state ?? null) || (state as { kind: string }).kind !== 'dict') return unreadArray(name);
      const dict = state as Parameters<typeof dictGet>[0];
      const shape = ints(dictGet(dict, 'shape')) ?? [];
      return build(
        name,
        numpyDescr(dictGet(dict, 'dtype') ?? null),
        shape,
        dictGet(dict, 'order') === 'F',
        file,
        array.start,
        array.length,
      );
    }
    const callee =
      isNode(value.callee) && value.callee.kind === 'global' ? judgeGlobal(value.callee).name : '';
    if (MASKED_RECONSTRUCTORS.has(callee)) return maskedArray(value, name, file);
    if (!NDARRAY_RECONSTRUCTORS.has(callee)) return undefined;
    const state = value.states[0];
    if (!isNode(state ?? null) || (state as { kind: string }).kind !== 'tuple') return unreadArray(name);
    const [, shapeValue, dtype, fortran, data] = (state as { items: PickleValue[] }).items;
    const shape = ints(shapeValue);
    if (!shape) return unreadArray(name);
    const bytes = dataBytes(data ?? null, file);
    if (bytes)
      return build(
        name,
        numpyDescr(dtype ?? null),
        shape,
        fortran === true,
        bytes.source,
        bytes.offset,
        bytes.length,
      );
    return {
      name,
      type: numpyDescr(dtype ?? null)?.descr ?? 'object',
      shape,
      byteLength: 0,
      reason: 'object array (Python objects, not numbers)',
    };
  };
}

/**
 * An array whose state is in a form ferry does not read: still named (an opaque tensor), never
 * left out of the listing or of convert's refusal (issue #22.3).
 */
function unreadArray(name: string): OpaqueTensor {
  return {
    name,
    type: 'unknown',
    shape: [],
    byteLength: 0,
    reason: 'array state in a form ferry does not read',
  };
}

/** An array's raw data in a BUILD state: bytes (a range of the file) or a latin-1 str. */
function dataBytes(
  data: PickleValue,
  file: ByteSource,
): { source: ByteSource; offset: number; length: number } | undefined {
  if (isNode(data) && data.kind === 'bytes') return { source: file, offset: data.start, length: data.length };
  let text: PickleValue = data;
  // Protocol 2 under Python 3: _codecs.encode(text, 'latin1').
  if (
    isNode(data) &&
    data.kind === 'call' &&
    isNode(data.callee) &&
    data.callee.kind === 'global' &&
    judgeGlobal(data.callee).name === '_codecs.encode'
  ) {
    text = data.args[0] ?? null;
  }
  // Python 2 str (SHORT_BINSTRING/BINSTRING), read as latin-1 like numpy's encoding='latin1'.
  const bytes = typeof text === 'string' ? latin1Bytes(text) : undefined;
  return bytes && { source: new BufferSource(bytes, file.name), offset: 0, length: bytes.length };
}

/**
 * numpy.ma: `_mareconstruct(...)` then MaskedArray.__setstate__((version, shape, dtype, fortran,
 * data, mask, fill_value)): the data is one tensor, the mask (bool per element, for a plain
 * dtype) another, `<name>.mask`; both are named even when ferry cannot read them.
 */
function maskedArray(
  call: PyCall,
  name: string,
  file: ByteSource,
): (TensorRef | OpaqueTensor)[] | OpaqueTensor {
  const state = call.states[call.states.length - 1];
  if (!isNode(state ?? null) || (state as { kind: string }).kind !== 'tuple') return unreadArray(name);
  const items = (state as { items: PickleValue[] }).items;
  if (items.length !== 7) return unreadArray(name);
  const [, shapeValue, dtype, fortran, data, mask] = items;
  const shape = ints(shapeValue);
  if (!shape) return unreadArray(name);
  // A structured dtype's mask is structured too (make_mask_descr: one bool per field), and a
  // dtype ferry cannot read leaves the mask's layout unknown: both are named, not guessed.
  const parsed = numpyDtype(dtype ?? null);
  const maskDescr = typeof parsed !== 'string' && !parsed.structured ? MASK_DTYPE : undefined;
  const parts: [string, PickleValue | undefined, Descr][] = [
    [name, data, numpyDescr(dtype ?? null)],
    [`${name}.mask`, mask, maskDescr],
  ];
  const out: (TensorRef | OpaqueTensor)[] = [];
  for (const [part, value, descr] of parts) {
    const bytes = dataBytes(value ?? null, file);
    if (bytes && descr)
      out.push(build(part, descr, shape, fortran === true, bytes.source, bytes.offset, bytes.length));
    else {
      out.push({
        name: part,
        type: descr ? descr.descr : part === name ? 'unknown' : 'structured mask',
        shape,
        byteLength: bytes?.length ?? 0,
        reason: bytes
          ? 'NumPy dtype with no ferry dtype'
          : descr?.hasObject
            ? 'object array (Python objects, not numbers)'
            : 'masked array data in a form ferry does not read',
      });
    }
  }
  return out;
}
