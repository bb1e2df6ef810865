import { NDARRAY_RECONSTRUCTORS } from '../numpy-classes.js';
import { ferryError } from '../../errors.js';
import type { PickleInput } from '../input.js';
import { judgeGlobal } from '../policy.js';
import { type JoblibArray, numpyDescr } from '../stream.js';
import { dictGet, isNode, type PickleValue, type PyCall, type PyDict } from '../values.js';

/** Elements decoded from one fitted array; a KNN training set or a forest's nodes stay far below (CWE-789). */
export const MAX_ARRAY_ELEMENTS = 64 * 1024 * 1024;

const SCALAR = new Set(['numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar']);

/** Where the graph's bytes live: the pickle input and joblib's inline arrays. */
export interface GraphSource {
  readonly path: string;
  readonly input: PickleInput;
  readonly arrays: ReadonlyMap<PyCall, JoblibArray>;
}

/** A decoded NumPy array: numbers (float64 view), strings, or a structured record table. */
export interface NdArray {
  readonly shape: number[];
  readonly data: number[];
}

export interface RecordArray {
  readonly length: number;
  readonly fields: ReadonlyMap<string, Float64Array>;
}

/** The class a call builds: `sklearn.linear_model._logistic.LogisticRegression`. */
export function classOf(value: PickleValue): string | undefined {
  if (!isNode(value) || value.kind !== 'call') return undefined;
  if (!isNode(value.callee) || value.callee.kind !== 'global') return undefined;
  const name = judgeGlobal(value.callee).name;
  const made = value.args[0] ?? null;
  if (
    (name === 'copyreg._reconstructor' || name === 'copyreg.__newobj__') &&
    isNode(made) &&
    made.kind === 'global'
  )
    return judgeGlobal(made).name;
  return name;
}

export const shortName = (cls: string): string => cls.slice(cls.lastIndexOf('.') + 1);

function stateDict(call: PyCall): PyDict | undefined {
  for (let i = call.states.length - 1; i >= 0; i--) {
    const s = call.states[i]!;
    if (isNode(s) && s.kind === 'dict') return s;
    if (isNode(s) && s.kind === 'tuple') {
      const d = s.items.find((x) => isNode(x) && x.kind === 'dict');
      if (d) return d as PyDict;
    }
  }
  return undefined;
}

/**
 * A fitted estimator in the inert graph: its class and the `__dict__` BUILD gave it. Every
 * accessor fails with one line naming the class and the attribute, never a guess.
 */
export class Estimator {
  readonly cls: string;
  readonly name: string;
  private readonly state: PyDict | undefined;

  constructor(
    readonly src: GraphSource,
    readonly node: PyCall,
  ) {
    this.cls = classOf(node) ?? '<call>';
    this.name = shortName(this.cls);
    this.state = stateDict(node);
  }

  fail(attribute: string, reason: string): never {
    throw ferryError('FERRY_SKLEARN_STATE', { path: this.src.path, class: this.name, attribute, reason });
  }

  unsupported(attribute: string, reason: string): never {
    throw ferryError('FERRY_SKLEARN_UNSUPPORTED', {
      path: this.src.path,
      class: this.name,
      attribute,
      reason,
    });
  }

  has(attribute: string): boolean {
    return this.state !== undefined && dictGet(this.state, attribute) !== undefined;
  }

  get(attribute: string): PickleValue {
    const value = this.state ? dictGet(this.state, attribute) : undefined;
    if (value === undefined) this.fail(attribute, 'missing (is the estimator fitted?)');
    return value;
  }

  opt(attribute: string): PickleValue | undefined {
    return this.state ? dictGet(this.state, attribute) : undefined;
  }

  num(attribute: string): number {
    const n = scalarOf(this.src, this.get(attribute));
    if (n === undefined) this.fail(attribute, 'not a number');
    return n;
  }

  int(attribute: string): number {
    const n = this.num(attribute);
    if (!Number.isSafeInteger(n)) this.fail(attribute, `${n} is not an integer`);
    return n;
  }

  str(attribute: string): string {
    const v = this.get(attribute);
    if (typeof v !== 'string') this.fail(attribute, 'not a string');
    return v;
  }

  bool(attribute: string): boolean {
    const v = this.get(attribute);
    if (typeof v !== 'boolean') this.fail(attribute, 'not a bool');
    return v;
  }

  array(attribute: string): NdArray {
    return this.arrayValue(attribute, this.get(attribute));
  }

  /** A numeric array held by `attribute` (or by one of its items). */
  arrayValue(attribute: string, v: PickleValue): NdArray {
    const s = scalarOf(this.src, v);
    if (s !== undefined) return { shape: [], data: [s] };
    const a = readArray(this.src, v, (reason) => this.fail(attribute, reason));
    if (a.kind !== 'numbers') this.fail(attribute, `holds ${a.kind}, not numbers`);
    return a.array;
  }

  /** A vector of floats of length n (a scalar or a [n] / [1, n] array). */
  vector(attribute: string, n?: number): number[] {
    const a = this.array(attribute);
    if (n !== undefined && a.data.length !== n)
      this.fail(attribute, `has ${a.data.length} values, expected ${n}`);
    return a.data;
  }

  /** classes_: int64 numbers or strings. */
  labels(attribute: string): { ints?: number[]; strings?: string[] } {
    const a = readArray(this.src, this.get(attribute), (reason) => this.fail(attribute, reason));
    if (a.kind === 'strings') return { strings: a.strings };
    if (a.kind === 'objects') {
      if (a.items.every((x) => typeof x === 'string')) return { strings: a.items as string[] };
      this.fail(attribute, 'object labels that are not strings');
    }
    if (a.kind !== 'numbers') this.fail(attribute, 'not an array of labels');
    if (!a.array.data.every((x) => Number.isSafeInteger(x)))
      this.unsupported(attribute, 'class labels that are not integers or strings');
    return { ints: a.array.data };
  }

  records(attribute: string, value: PickleValue = this.get(attribute)): RecordArray {
    const a = readArray(this.src, value, (reason) => this.fail(attribute, reason));
    if (a.kind !== 'records') this.fail(attribute, 'not a structured array');
    return a.records;
  }

  /** Items of a list, tuple or object array. */
  items(attribute: string, value: PickleValue = this.get(attribute)): PickleValue[] {
    if (isNode(value) && (value.kind === 'list' || value.kind === 'tuple')) return [...value.items];
    const a = readArray(this.src, value, (reason) => this.fail(attribute, reason));
    if (a.kind !== 'objects') this.fail(attribute, 'not a list or object array');
    return a.items;
  }

  child(attribute: string, value: PickleValue = this.get(attribute)): Estimator {
    if (!isNode(value) || value.kind !== 'call') this.fail(attribute, 'not an object');
    return new Estimator(this.src, value);
  }
}

export function scalarOf(src: GraphSource, v: PickleValue): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : undefined;
  if (!isNode(v) || v.kind !== 'call' || !isNode(v.callee) || v.callee.kind !== 'global') return undefined;
  if (!SCALAR.has(judgeGlobal(v.callee).name)) return undefined;
  const descr = numpyDescr(v.args[0] ?? null);
  const bytes = bytesOf(src, v.args[1] ?? null);
  if (!descr || !bytes) return undefined;
  const values = decodeNumbers(descr.descr, bytes, 1);
  return values?.[0];
}

function bytesOf(src: GraphSource, v: PickleValue): Uint8Array | undefined {
  if (isNode(v) && v.kind === 'bytes') return src.input.read(v.start, v.length);
  let text: string | undefined;
  if (typeof v === 'string') text = v;
  else if (isNode(v) && v.kind === 'call' && typeof v.args[0] === 'string') text = v.args[0];
  if (text === undefined) return undefined;
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Little- or big-endian numbers of a simple NumPy dtype as doubles; undefined for others. */
export function decodeNumbers(descr: string, bytes: Uint8Array, count: number): number[] | undefined {
  const order = descr[0];
  const little = order !== '>';
  const code = descr.slice(1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizes: Record<string, [number, (o: number) => number]> = {
    f8: [8, (o) => view.getFloat64(o, little)],
    f4: [4, (o) => view.getFloat32(o, little)],
    i8: [8, (o) => Number(view.getBigInt64(o, little))],
    u8: [8, (o) => Number(view.getBigUint64(o, little))],
    i4: [4, (o) => view.getInt32(o, little)],
    u4: [4, (o) => view.getUint32(o, little)],
    i2: [2, (o) => view.getInt16(o, little)],
    u2: [2, (o) => view.getUint16(o, little)],
    i1: [1, (o) => view.getInt8(o)],
    u1: [1, (o) => view.getUint8(o)],
    b1: [1, (o) => view.getUint8(o)],
  };
  const entry = sizes[code];
  if (!entry || bytes.length < entry[0] * count) return undefined;
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = entry[1](i * entry[0]);
  return out;
}

type Decoded =
  | { kind: 'numbers'; array: NdArray }
  | { kind: 'strings'; strings: string[] }
  | { kind: 'objects'; items: PickleValue[] }
  | { kind: 'records'; records: RecordArray };

function tupleInts(v: PickleValue | undefined): number[] | undefined {
  if (!isNode(v ?? null) || (v as { kind: string }).kind !== 'tuple') return undefined;
  const items = (v as { items: PickleValue[] }).items;
  return items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
    ? (items as number[])
    : undefined;
}

/** Reads a NumPy array: joblib's inline wrapper or ndarray.__reduce__. */
export function readArray(src: GraphSource, v: PickleValue, fail: (reason: string) => never): Decoded {
  if (!isNode(v) || v.kind !== 'call') return fail('not an array');
  let shape: number[] | undefined;
  let dtype: PickleValue = null;
  let fortran = false;
  let bytes: Uint8Array | undefined;
  let data: PickleValue = null;
  const inline = src.arrays.get(v);
  if (inline) {
    const state = stateDict(v);
    if (!state) return fail('joblib wrapper without state');
    shape = tupleInts(dictGet(state, 'shape'));
    dtype = dictGet(state, 'dtype') ?? null;
    fortran = dictGet(state, 'order') === 'F';
    bytes = src.input.read(inline.start, inline.length);
  } else {
    if (
      !isNode(v.callee) ||
      v.callee.kind !== 'global' ||
      !NDARRAY_RECONSTRUCTORS.has(judgeGlobal(v.callee).name)
    )
      return fail(`not an array (a ${classOf(v) ?? 'call'})`);
    const state = v.states[0];
    if (!isNode(state ?? null) || (state as { kind: string }).kind !== 'tuple')
      return fail('array without state');
    const items = (state as { items: PickleValue[] }).items;
    shape = tupleInts(items[1]);
    dtype = items[2] ?? null;
    fortran = items[3] === true;
    data = items[4] ?? null;
    if (isNode(data) && data.kind === 'list') {
      return { kind: 'objects', items: [...data.items] };
    }
    bytes = bytesOf(src, data);
  }
  if (!shape) return fail('array without a shape');
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > MAX_ARRAY_ELEMENTS)
    return fail(`${count} elements, over MAX_ARRAY_ELEMENTS ${MAX_ARRAY_ELEMENTS} (CWE-789)`);
  if (!bytes) return fail('array data is not bytes');
  const descr = numpyDescr(dtype);
  if (!descr) return fail('array dtype is not a numpy.dtype');
  const code = descr.descr.slice(1);
  if (fortran && shape.length > 1 && (code.startsWith('U') || code.startsWith('V')))
    return fail('Fortran-ordered string or record array');
  if (code.startsWith('U')) {
    const width = descr.itemsize;
    if (bytes.length < width * count) return fail('string array data is short');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const strings: string[] = [];
    for (let i = 0; i < count; i++) {
      let s = '';
      for (let j = 0; j < width / 4; j++) {
        const c = view.getUint32(i * width + j * 4, descr.descr[0] !== '>');
        if (c === 0) break;
        s += String.fromCodePoint(c);
      }
      strings.push(s);
    }
    return { kind: 'strings', strings };
  }
  if (code.startsWith('V')) return { kind: 'records', records: readRecords(dtype, bytes, count, fail) };
  let numbers = decodeNumbers(descr.descr, bytes, count);
  if (!numbers) return fail(`dtype ${descr.descr} is not a numeric dtype ferry reads here`);
  if (fortran && shape.length > 1) numbers = toCOrder(numbers, shape);
  return { kind: 'numbers', array: { shape, data: numbers } };
}

/** A structured array (sklearn's tree NODE_DTYPE): fields read by name, so added fields are fine. */
function readRecords(
  dtype: PickleValue,
  bytes: Uint8Array,
  count: number,
  fail: (r: string) => never,
): RecordArray {
  const call = dtype as PyCall;
  const state = call.states[0];
  if (!isNode(state ?? null) || (state as { kind: string }).kind !== 'tuple')
    return fail('structured dtype without state');
  const items = (state as { items: PickleValue[] }).items;
  const fieldsValue = items[4];
  const itemsize = items[5];
  if (
    !isNode(fieldsValue ?? null) ||
    (fieldsValue as { kind: string }).kind !== 'dict' ||
    typeof itemsize !== 'number'
  )
    return fail('structured dtype without fields');
  if (bytes.length < itemsize * count) return fail('structured array data is short');
  const fields = new Map<string, Float64Array>();
  for (const [k, v] of (fieldsValue as PyDict).entries) {
    if (typeof k !== 'string' || !isNode(v) || v.kind !== 'tuple') continue;
    const fd = numpyDescr(v.items[0] ?? null);
    const offset = v.items[1];
    if (!fd || typeof offset !== 'number') continue;
    const read = fieldReader(fd.descr, bytes);
    if (!read) return fail(`field ${k} has dtype ${fd.descr}`);
    if (offset < 0 || offset + fd.itemsize > itemsize) return fail(`field ${k} lies outside the record`);
    const column = new Float64Array(count);
    for (let i = 0; i < count; i++) column[i] = read(i * itemsize + offset);
    fields.set(k, column);
  }
  return { length: count, fields };
}

/** Fortran-ordered values (LinearSVC.coef_) in C order. */
function toCOrder(values: number[], shape: readonly number[]): number[] {
  const n = values.length;
  const out = new Array<number>(n);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  for (let c = 0; c < n; c++) {
    // index is the C-order multi-index of c; its Fortran offset has the first axis fastest.
    let f = 0;
    let step = 1;
    for (let d = 0; d < rank; d++) {
      f += index[d]! * step;
      step *= shape[d]!;
    }
    out[c] = values[f]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return out;
}

/** A reader of one value of a simple dtype at a byte offset (record fields). */
function fieldReader(descr: string, bytes: Uint8Array): ((at: number) => number) | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = descr[0] !== '>';
  switch (descr.slice(1)) {
    case 'f8':
      return (o) => view.getFloat64(o, little);
    case 'f4':
      return (o) => view.getFloat32(o, little);
    case 'i8':
      return (o) => Number(view.getBigInt64(o, little));
    case 'u8':
      return (o) => Number(view.getBigUint64(o, little));
    case 'i4':
      return (o) => view.getInt32(o, little);
    case 'u4':
      return (o) => view.getUint32(o, little);
    case 'u1':
    case 'b1':
      return (o) => view.getUint8(o);
    case 'i1':
      return (o) => view.getInt8(o);
    default:
      return undefined;
  }
}
