import { MAX_STRUCT_FIELDS } from './limits.js';
import { commastringDescr, isCommastring } from './npy-commastring.js';
import { type NpScalar, typestrDtype } from './npy-typestr.js';
import { PyTuple, type PyValue } from './py-literal.js';

/** A NumPy dtype as `numpy.dtype(...)` builds it from a header's descr. */
export type NpDtype = NpScalar | NpSubarray | NpStruct;
export interface NpSubarray {
  readonly kind: 'subarray';
  /** Not flattened: numpy keeps `(('<i4', (2,)), (3,))` as three of a two-int subarray. */
  readonly base: NpDtype;
  readonly shape: readonly number[];
  readonly itemSize: number;
}
export interface NpField {
  readonly name: string;
  readonly title: string | null;
  readonly offset: number;
  readonly dtype: NpDtype;
}
export interface NpStruct {
  readonly kind: 'struct';
  readonly fields: readonly NpField[];
  readonly itemSize: number;
}

/** Why a descr was not interpreted; the caller turns it into FERRY_NPY_DESCR. */
export class DescrRefused extends Error {}

/** Item sizes are C ints in NumPy 1.x: a bigger dtype is an error there too. */
const MAX_ITEM_SIZE = 0x7fff_ffff;

/** True when any part of the dtype is a Python object: numpy.load then unpickles the data. */
export function containsObject(dtype: NpDtype): boolean {
  if (dtype.kind === 'scalar') return dtype.str === '|O';
  if (dtype.kind === 'subarray') return containsObject(dtype.base);
  return dtype.fields.some((field) => containsObject(field.dtype));
}

/**
 * numpy/lib/format.py `descr_to_dtype` (NumPy 1.24): a string is `numpy.dtype(str)`; a tuple is
 * `(dtype, shape)`; a list is fields `(name, descr[, shape])`, a name `(title, name)`, a `''`
 * void field padding that only moves the next offset; a dict is its keys. Bytes (numpy fails on
 * them) are refused, as are the spellings npy-typestr refuses.
 */
export function interpretDescr(descr: PyValue): NpDtype {
  const counter = { fields: 0 };
  return interpret(descr, counter);
}

function interpret(descr: PyValue, counter: { fields: number }): NpDtype {
  if (typeof descr === 'string') {
    if (isCommastring(descr)) {
      if (!/^[\x00-\x7f]*$/.test(descr))
        throw new DescrRefused(`type string ${JSON.stringify(descr)}: non-ASCII`);
      const expanded = commastringDescr(descr);
      if ('refused' in expanded)
        throw new DescrRefused(`type string ${JSON.stringify(descr)}: ${expanded.refused}`);
      return interpret(expanded.descr, counter);
    }
    const dtype = typestrDtype(descr);
    if (typeof dtype === 'string') throw new DescrRefused(`type string ${JSON.stringify(descr)}: ${dtype}`);
    return dtype;
  }
  if (descr instanceof PyTuple) {
    // descr_to_dtype reads descr[0] and descr[1] only.
    if (descr.items.length < 2) throw new DescrRefused('a (dtype, shape) tuple with fewer than two items');
    return subarray(interpret(descr.items[0]!, counter), descr.items[1]!);
  }
  if (Array.isArray(descr)) return struct(descr, counter);
  // descr_to_dtype iterates what it is given: a dict gives its keys, and a 2-character key 'aO'
  // unpacks as the field ('a', 'O').
  if (descr instanceof Map) return struct([...descr.keys()], counter);
  throw new DescrRefused('neither a type string, a (dtype, shape) tuple, a list of fields nor a dict');
}

/**
 * `numpy.dtype((base, shape))` (descriptor.c `_convert_from_tuple`): for an unsized base
 * (`S0`, `U0`, `V0`, a zero-size subarray) the second item is an item size (`('|S0', 3)` is `|S3`); otherwise an int or a
 * sequence of ints, where `1` and `()` give the base itself.
 */
function subarray(base: NpDtype, shape: PyValue): NpDtype {
  // PyDataType_ISUNSIZED: item size 0 and no fields. A zero-size subarray counts too: numpy then
  // sets its item size and keeps base and shape ((([], (2,)), 3) has item size 3).
  if (base.kind !== 'struct' && base.itemSize === 0) {
    if (typeof shape !== 'number' || shape < 0)
      throw new DescrRefused('an unsized type whose size is not a non-negative integer');
    const itemSize = base.kind === 'scalar' && base.str[1] === 'U' ? shape * 4 : shape;
    if (itemSize > MAX_ITEM_SIZE) throw new DescrRefused('a type bigger than numpy allows (2**31 - 1 bytes)');
    if (base.kind === 'subarray') return { ...base, itemSize };
    return { kind: 'scalar', str: `${base.str.slice(0, 2)}${shape}`, itemSize };
  }
  let dims: readonly PyValue[];
  if (typeof shape === 'number') {
    if (shape === 1) return base; // numpy 1.24: a FutureWarning, and the base dtype
    dims = [shape];
  } else if (shape instanceof PyTuple) dims = shape.items;
  else if (Array.isArray(shape)) dims = shape;
  else throw new DescrRefused('a subarray shape that is not an integer or a tuple of integers');
  if (dims.length === 0) return base;
  if (dims.length > 32) throw new DescrRefused('a subarray with more than 32 dimensions (NPY_MAXDIMS)');
  let count = 1;
  const out: number[] = [];
  for (const dim of dims) {
    if (typeof dim !== 'number' || dim < 0)
      throw new DescrRefused('a subarray dimension that is not a non-negative integer');
    out.push(dim);
    count *= dim;
  }
  const itemSize = base.itemSize * count;
  if (!Number.isSafeInteger(itemSize) || itemSize > MAX_ITEM_SIZE)
    throw new DescrRefused('a subarray bigger than numpy allows (2**31 - 1 bytes)');
  return { kind: 'subarray', base, shape: out, itemSize };
}

function struct(fields: readonly PyValue[], counter: { fields: number }): NpStruct {
  const out: NpField[] = [];
  const used = new Set<string>();
  let offset = 0;
  for (const field of fields) {
    if (++counter.fields > MAX_STRUCT_FIELDS)
      throw new DescrRefused(`more than ${MAX_STRUCT_FIELDS} fields (MAX_STRUCT_FIELDS, CWE-770)`);
    // `name, descr = field` unpacks a tuple, a list, or a 2-character string ('aO').
    let parts: readonly PyValue[];
    if (field instanceof PyTuple) parts = field.items;
    else if (Array.isArray(field)) parts = field;
    else if (typeof field === 'string' && [...field].length === 2) parts = [...field];
    else throw new DescrRefused('a field that is not (name, descr[, shape])');
    if (parts.length !== 2 && parts.length !== 3)
      throw new DescrRefused('a field that is not (name, descr[, shape])');
    const [name, inner, shape] = parts as [PyValue, PyValue, PyValue | undefined];
    let dtype = interpret(inner, counter);
    if (shape !== undefined) dtype = subarray(dtype, shape);
    // numpy: `name == '' and dt.type is numpy.void and dt.names is None` is padding. A subarray's
    // type is void too, so ('', '|O', (2,)) is padding, not objects.
    const padding =
      name === '' && (dtype.kind === 'subarray' || (dtype.kind === 'scalar' && dtype.str[1] === 'V'));
    if (!padding) {
      let title: string | null = null;
      let fieldName: PyValue = name;
      if (name instanceof PyTuple) {
        if (name.items.length !== 2) throw new DescrRefused('a (title, name) that is not two items');
        const [first, second] = name.items as [PyValue, PyValue];
        if (first !== null && typeof first !== 'string')
          throw new DescrRefused('a field title that is not a string (not interpreted by ferry)');
        title = first;
        fieldName = second;
      }
      if (typeof fieldName !== 'string') throw new DescrRefused('a field name that is not a string');
      if (used.has(fieldName)) throw new DescrRefused(`field name ${JSON.stringify(fieldName)} used twice`);
      used.add(fieldName);
      if (title !== null) {
        if (used.has(title)) throw new DescrRefused(`title ${JSON.stringify(title)} already used`);
        used.add(title);
      }
      out.push({ name: fieldName, title, offset, dtype });
    }
    offset += dtype.itemSize;
    if (offset > MAX_ITEM_SIZE) throw new DescrRefused('a record bigger than numpy allows (2**31 - 1 bytes)');
  }
  return { kind: 'struct', fields: out, itemSize: offset };
}

/** The shape of numpy's answer that fixtures record (fixtures/make/numpy_dtypes.py `describe`). */
export type DtypeDescription =
  | { readonly str: string; readonly itemsize: number }
  | { readonly base: DtypeDescription; readonly shape: readonly number[]; readonly itemsize: number }
  | {
      readonly fields: readonly (readonly [string, string | null, number, DtypeDescription])[];
      readonly itemsize: number;
    };

export function describeDtype(dtype: NpDtype): DtypeDescription {
  if (dtype.kind === 'scalar') return { str: dtype.str, itemsize: dtype.itemSize };
  if (dtype.kind === 'subarray')
    return { base: describeDtype(dtype.base), shape: dtype.shape, itemsize: dtype.itemSize };
  return {
    fields: dtype.fields.map((f) => [f.name, f.title, f.offset, describeDtype(f.dtype)] as const),
    itemsize: dtype.itemSize,
  };
}
