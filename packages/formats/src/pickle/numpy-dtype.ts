import { judgeGlobal } from './policy.js';
import { RECORD_TYPES } from './numpy-classes.js';
import { isNode, type PickleValue, type PyGlobal, type PyNode } from './values.js';

/**
 * A numpy.dtype as a pickle rebuilds it: `numpy.dtype(code, align, copy)` and then
 * `dtype.__setstate__(state)` for each BUILD (numpy/core/src/multiarray/descriptor.c,
 * arraydescr_reduce and arraydescr_setstate, numpy 1.24). Only the forms numpy's own
 * __reduce__ writes are understood; anything else is refused, never guessed (issue #24.2):
 * joblib skips `count * itemsize` bytes on the strength of this answer.
 */
export interface NumpyDtype {
  /** The type letter of the code: b i u f c m M O S U V. */
  readonly kind: string;
  /** Bytes per element, as numpy computes dtype.itemsize. */
  readonly itemsize: number;
  /** dtype.hasobject: joblib then reads a nested pickle instead of raw bytes. */
  readonly hasObject: boolean;
  /** The state's byte order character ('<', '>', '|', '='), or '|' without a state. */
  readonly byteOrder: string;
  /** The state's structure (names, fields) or subarray, when it has one. */
  readonly structured: boolean;
}

/** Sizes numpy 1.24 (64-bit) gives each fixed kind ('f16'/'c32': long double; 'O4' is 8 bytes, so refused). */
const FIXED: Readonly<Record<string, readonly number[]>> = {
  b: [1],
  i: [1, 2, 4, 8],
  u: [1, 2, 4, 8],
  f: [2, 4, 8, 16],
  c: [8, 16, 32],
  m: [8],
  M: [8],
  O: [8],
};
/** numpy's "extended" (flexible) kinds: setstate takes their itemsize from the state. */
const FLEXIBLE = new Set(['S', 'U', 'V']);

function truthValue(value: PickleValue | undefined): boolean {
  return (
    value === undefined ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isSafeInteger(value))
  );
}

function isRecordType(value: PickleValue | undefined): boolean {
  return (
    isNode(value ?? null) &&
    (value as PyNode).kind === 'global' &&
    RECORD_TYPES.has(judgeGlobal(value as PyGlobal).name)
  );
}

function int(value: PickleValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

/**
 * The dtype a pickled value rebuilds, or the reason it is not understood. The code must be
 * what arraydescr_reduce writes (`%c%d`: a kind letter and a decimal size, no sign, space or
 * leading zero; numpy's own parser also takes 'f 8', 'f+8', 'float64', 'i4,f8'...), and every
 * state must be the 8- or 9-tuple of versions 3-4.
 */
export function numpyDtype(value: PickleValue): NumpyDtype | string {
  if (!isNode(value) || value.kind !== 'call') return 'the dtype is not a numpy.dtype call';
  const callee = value.callee;
  if (!isNode(callee) || callee.kind !== 'global' || judgeGlobal(callee).name !== 'numpy.dtype')
    return 'the dtype is not made by numpy.dtype';
  if (value.opcode !== 'REDUCE' && value.opcode !== 'NEWOBJ') return `numpy.dtype made by ${value.opcode}`;
  if (value.listItems.length > 0 || value.dictItems.length > 0) return 'items added to a numpy.dtype';
  const [, align, copy] = value.args;
  if (value.args.length < 1 || value.args.length > 3)
    return `numpy.dtype with ${value.args.length} arguments`;
  // PyArray_BoolConverter takes any truth value; Python 2 numpy wrote ints (0, 1).
  if (!truthValue(align) || !truthValue(copy)) return 'numpy.dtype align/copy are not booleans or ints';
  // A void dtype whose type is numpy.record (a recarray's) is reduced with the class as its code
  // (descriptor.c arraydescr_reduce); its size comes from the state, like 'V0'.
  const code = isRecordType(value.args[0]) ? 'V0' : value.args[0];
  if (typeof code !== 'string') return 'the dtype code is not a string';
  const match = /^([biufcmMOSUV])(0|[1-9][0-9]{0,9})$/.exec(code);
  if (!match) return `dtype code ${JSON.stringify(code.slice(0, 40))} is not a kind letter and a size`;
  const kind = match[1]!;
  const size = Number(match[2]);
  let itemsize: number;
  if (FLEXIBLE.has(kind)) {
    // _convert_from_str: 'U' counts UCS-4 characters.
    itemsize = kind === 'U' ? size * 4 : size;
  } else {
    if (!FIXED[kind]!.includes(size)) return `dtype code ${code} is not a numpy type`;
    itemsize = size;
  }
  let hasObject = kind === 'O';
  let byteOrder = '|';
  let structured = false;
  for (const state of value.states) {
    if (!isNode(state) || state.kind !== 'tuple') return 'the dtype state is not a tuple';
    const items = state.items;
    if (items.length !== 8 && items.length !== 9) return `the dtype state has ${items.length} items`;
    const version = items[0];
    // Versions 0-2 recompute flags from the fields; ferry reads only what numpy writes now.
    if (version !== 3 && version !== 4) return `dtype state version ${String(version)}`;
    const endian = items[1];
    if (typeof endian !== 'string' || !['<', '>', '|', '='].includes(endian))
      return 'the dtype byte order is not one of < > | =';
    const [subarray, names, fields] = [items[2] ?? null, items[3] ?? null, items[4] ?? null];
    const elsize = int(items[5]);
    const alignment = int(items[6]);
    const flags = int(items[7]);
    if (elsize === undefined || alignment === undefined || flags === undefined)
      return 'the dtype state sizes or flags are not ints';
    if (subarray !== null && !(isNode(subarray) && subarray.kind === 'tuple'))
      return 'the dtype subarray is not a tuple';
    if (names !== null && !(isNode(names) && names.kind === 'tuple'))
      return 'the dtype names are not a tuple';
    if (fields !== null && !(isNode(fields) && fields.kind === 'dict'))
      return 'the dtype fields are not a dict';
    structured = subarray !== null || names !== null || fields !== null;
    if (structured && kind !== 'V') return `a ${kind} dtype with fields or a subarray`;
    // arraydescr_setstate: extended types take elsize from the state; others keep theirs.
    if (FLEXIBLE.has(kind)) itemsize = elsize;
    // Version >= 3 takes the flags as written: bit 0 (NPY_ITEM_REFCOUNT) is dtype.hasobject,
    // even on an 'f8' (numpy 1.24 checked: np.dtype('f8', False, True) with flags 1).
    hasObject = (flags & 1) === 1;
    byteOrder = endian;
  }
  if (itemsize <= 0 && !hasObject) return `dtype itemsize ${itemsize}`;
  return { kind, itemsize, hasObject, byteOrder, structured };
}
