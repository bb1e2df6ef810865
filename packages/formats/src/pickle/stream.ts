import { ferryError, isFerryError } from '../errors.js';
import type { PickleInput } from './input.js';
import { type MachineOptions, type PickleResult, runPickle } from './machine.js';
import { judgeGlobal } from './policy.js';
import { dictGet, isNode, type PickleValue, type PyCall } from './values.js';

/** Pickles read back to back from one stream (pickle.load called until the data ends). */
export const MAX_PICKLES_PER_STREAM = 10_000;
/** joblib nests a pickle for each object array inside its pickle; deeper is hostile (CWE-674). */
export const MAX_INLINE_NESTING = 16;

export interface StreamResult {
  readonly pickles: PickleResult[];
  /** Pickles joblib embedded inline (object arrays), judged like the rest. */
  readonly nested: PickleResult[];
  /** Where reading stopped: the end, or the first byte that does not start a pickle. */
  readonly end: number;
  /** Why reading stopped before the end of the input (trailing non-pickle data). */
  readonly trailing?: { readonly offset: number; readonly reason: string };
}

/** An inline joblib array: where its bytes are in the stream. */
export interface JoblibArray {
  readonly start: number;
  readonly length: number;
  readonly wrapper: PyCall;
}

const JOBLIB_WRAPPERS = new Set([
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
]);

/** NumPy dtype from a pickled `numpy.dtype(descr, align, copy)` call with its BUILD state. */
export function numpyDescr(
  value: PickleValue,
): { descr: string; itemsize: number; hasObject: boolean } | undefined {
  if (!isNode(value) || value.kind !== 'call') return undefined;
  if (
    !isNode(value.callee) ||
    value.callee.kind !== 'global' ||
    judgeGlobal(value.callee).name !== 'numpy.dtype'
  ) {
    return undefined;
  }
  const code = value.args[0];
  if (typeof code !== 'string') return undefined;
  const state = value.states[0] ?? null;
  let order = '|';
  if (isNode(state) && state.kind === 'tuple' && typeof state.items[1] === 'string') order = state.items[1];
  const match = /^([a-zA-Z])(\d+)$/.exec(code);
  const kind = match ? match[1]! : code;
  // 'U' counts UCS-4 characters, not bytes (numpy dtype.itemsize).
  const itemsize = match ? Number(match[2]) * (kind === 'U' ? 4 : 1) : 0;
  // A structured dtype holds objects when its flags have NPY_ITEM_REFCOUNT (0x01, state[7]).
  const flags = isNode(state) && state.kind === 'tuple' ? state.items[7] : 0;
  const hasObject = kind === 'O' || (typeof flags === 'number' && (flags & 1) === 1);
  return {
    descr: `${order === '|' && itemsize > 1 ? '<' : order}${kind}${match ? match[2] : ''}`,
    itemsize,
    hasObject,
  };
}

function shapeOf(value: PickleValue | undefined): number[] | undefined {
  if (!isNode(value ?? null) || (value as { kind: string }).kind !== 'tuple') return undefined;
  const items = (value as { items: readonly PickleValue[] }).items;
  if (!items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) return undefined;
  return items as number[];
}

/**
 * joblib's NumpyPickler writes each array's raw bytes into the stream right after the
 * wrapper's BUILD (joblib/numpy_pickle.py, NumpyArrayWrapper.write_array): an optional padding
 * byte count plus padding (joblib >= 1.2 aligns to 16 bytes), then the data; object arrays are
 * a nested pickle instead. This hook steps over them exactly as read_array does.
 */
export function joblibHook(
  arrays: JoblibArray[],
  nested: PickleResult[],
  depth = 0,
): MachineOptions['afterBuild'] {
  return (call, position, input) => {
    if (
      !isNode(call.callee) ||
      call.callee.kind !== 'global' ||
      !JOBLIB_WRAPPERS.has(judgeGlobal(call.callee).name)
    ) {
      return undefined;
    }
    const state = call.states[call.states.length - 1];
    const bad = (reason: string) =>
      ferryError('FERRY_PICKLE_STRUCTURE', {
        path: input.name,
        what: `joblib array at byte ${call.offset}`,
        reason,
      });
    if (!isNode(state ?? null) || (state as { kind: string }).kind !== 'dict')
      throw bad('the wrapper state is not a dict');
    const dict = state as Parameters<typeof dictGet>[0];
    const shape = shapeOf(dictGet(dict, 'shape'));
    const dtype = numpyDescr(dictGet(dict, 'dtype') ?? null);
    if (!shape || !dtype) throw bad('no shape or dtype in the wrapper state');
    if (dtype.hasObject) {
      if (depth >= MAX_INLINE_NESTING)
        throw bad(`object arrays nested over ${MAX_INLINE_NESTING} deep (CWE-674)`);
      const inner = runPickle(input, position, { afterBuild: joblibHook(arrays, nested, depth + 1) });
      nested.push(inner);
      return { position: inner.end, value: inner.value };
    }
    let at = position;
    // joblib reads the padding only when the attribute is set and not None
    // (NumpyArrayWrapper.safe_get_numpy_array_alignment_bytes).
    const alignment = dictGet(dict, 'numpy_array_alignment_bytes');
    if (alignment !== undefined && alignment !== null) {
      if (at >= input.end) throw bad('the padding byte is missing');
      at += 1 + input.read(at, 1)[0]!;
    }
    let count = 1n;
    for (const d of shape) count *= BigInt(d);
    const length = count * BigInt(dtype.itemsize);
    if (length > BigInt(input.end - at)) {
      throw ferryError('FERRY_PICKLE_TRUNCATED', {
        path: input.name,
        offset: at,
        what: 'joblib array data',
        need: length,
        left: input.end - at,
      });
    }
    arrays.push({ start: at, length: Number(length), wrapper: call });
    return { position: at + Number(length), value: call };
  };
}

/**
 * Reads pickles back to back. The first must parse (else the error propagates); a later one
 * that fails ends the stream, and what follows is reported as trailing data, since CPython's
 * pickle.load would fail there too and never run what lies beyond.
 */
export function readPickleStream(
  input: PickleInput,
  options: { start?: number; maxPickles?: number; arrays?: JoblibArray[] } = {},
): StreamResult {
  const pickles: PickleResult[] = [];
  const nested: PickleResult[] = [];
  const arrays = options.arrays ?? [];
  const afterBuild = joblibHook(arrays, nested);
  let at = options.start ?? input.start;
  const max = Math.min(options.maxPickles ?? MAX_PICKLES_PER_STREAM, MAX_PICKLES_PER_STREAM);
  while (at < input.end && pickles.length < max) {
    try {
      const result = runPickle(input, at, { afterBuild });
      pickles.push(result);
      at = result.end;
    } catch (error) {
      if (pickles.length === 0 || !isFerryError(error)) throw error;
      return { pickles, nested, end: at, trailing: { offset: at, reason: error.message } };
    }
  }
  return { pickles, nested, end: at };
}
