import { ferryError, isFerryError } from '../errors.js';
import type { PickleInput } from './input.js';
import { type MachineOptions, type PickleResult, runPickle } from './machine.js';
import { wrapperAttributes, wrapperConstruction } from './joblib-wrapper.js';
import { numpyDtype } from './numpy-dtype.js';
import { isNode, type PickleValue, type PyCall, type PyNode } from './values.js';

/** Pickles read back to back from one stream (pickle.load called until the data ends). */
export const MAX_PICKLES_PER_STREAM = 10_000;

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
  /**
   * The array's node in the graph: a NumpyArrayWrapper call whose one state holds the
   * attributes the wrapper had when joblib read it (shape, dtype, order...).
   */
  readonly wrapper: PyCall;
}

/** What readers of an inline array look at (numpy-arrays.ts, sklearn/state.ts). */
const ARRAY_ATTRIBUTES = ['subclass', 'shape', 'order', 'dtype', 'allow_mmap', 'numpy_array_alignment_bytes'];

/** Joblib arrays the hook has read: BUILD on one is ndarray.__setstate__, not another read. */
const readArrays = new WeakSet<PyCall>();

/** NumPy dtype from a pickled `numpy.dtype(descr, align, copy)` call with its BUILD state. */
export function numpyDescr(
  value: PickleValue,
): { descr: string; itemsize: number; hasObject: boolean } | undefined {
  const dtype = numpyDtype(value);
  if (typeof dtype === 'string') return undefined;
  const { kind, itemsize, byteOrder } = dtype;
  if (kind === 'U' && itemsize % 4 !== 0) return undefined;
  const size = kind === 'U' ? itemsize / 4 : itemsize;
  const order =
    byteOrder === '=' || (byteOrder === '|' && itemsize > 1 && !'SUVbO'.includes(kind)) ? '<' : byteOrder;
  return { descr: `${order}${kind}${size}`, itemsize, hasObject: dtype.hasObject };
}

function shapeOf(value: PickleValue | undefined): number[] | undefined {
  if (!isNode(value ?? null)) return undefined;
  const node = value as PyNode;
  if (node.kind !== 'tuple' && node.kind !== 'list') return undefined;
  const items = node.items;
  if (!items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) return undefined;
  return [...(items as number[])];
}

/**
 * joblib's NumpyPickler writes each array's raw bytes into the stream right after the
 * wrapper's BUILD (joblib 1.2 numpy_pickle.py, NumpyArrayWrapper.write_array): a padding byte
 * count plus padding when `numpy_array_alignment_bytes` is not None, then count * itemsize
 * bytes; object arrays are a nested pickle instead, read by plain pickle.load. This hook steps
 * over them exactly as read_array does, from the attributes the wrapper has at that BUILD and
 * the dtype numpy would rebuild; what it cannot know for certain is an error, never a guess
 * at how many bytes to skip (issue #24.2).
 */
export function joblibHook(arrays: JoblibArray[], nested: PickleResult[]): MachineOptions['afterBuild'] {
  return (call, position, input) => {
    const bad = (reason: string): never => {
      throw ferryError('FERRY_PICKLE_STRUCTURE', {
        path: input.name,
        what: `joblib array at byte ${call.offset}`,
        reason,
      });
    };
    if (readArrays.has(call)) bad('BUILD on an array joblib has already read');
    if (!wrapperConstruction(call, bad)) return undefined;
    const attrs = wrapperAttributes(call, bad);
    const shape = shapeOf(attrs.get('shape'));
    if (!shape) return bad('the shape is not a tuple of non-negative ints');
    const dtype = numpyDtype(attrs.get('dtype') ?? null);
    if (typeof dtype === 'string') return bad(dtype);
    const order = attrs.get('order');
    const alignment = attrs.get('numpy_array_alignment_bytes');
    if ((order !== undefined && isNode(order)) || (alignment !== undefined && isNode(alignment)))
      return bad('order or numpy_array_alignment_bytes is only known at load time');
    // The array as the graph sees it: the wrapper's attributes at this BUILD, frozen.
    const value: PyCall = {
      kind: 'call',
      opcode: call.opcode,
      callee: call.callee,
      args: [],
      states: [
        {
          kind: 'dict',
          entries: ARRAY_ATTRIBUTES.flatMap((k) => (attrs.has(k) ? [[k, attrs.get(k)!]] : [])),
          offset: call.offset,
        },
      ],
      listItems: [],
      dictItems: [],
      offset: call.offset,
    };
    readArrays.add(value);
    if (dtype.hasObject) {
      // read_array: `pickle.load(unpickler.file_handle)`, the stdlib unpickler: a wrapper in
      // there is a plain object and the bytes after its BUILD are opcodes, so no hook.
      const inner = runPickle(input, position);
      nested.push(inner);
      return { position: inner.end, value: inner.value };
    }
    let at = position;
    // safe_get_numpy_array_alignment_bytes: getattr(..., None); any value but None pads.
    if (alignment !== undefined && alignment !== null) {
      if (at >= input.end) return bad('the padding byte is missing');
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
    arrays.push({ start: at, length: Number(length), wrapper: value });
    return { position: at + Number(length), value };
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
