import { ferryError } from '../errors.js';
import { type DType, dtypeFromNumpy, dtypeSize } from '../tensor/dtype.js';
import { MAX_STRUCT_FIELDS } from './limits.js';
import { PyTuple, type PyValue } from './py-literal.js';

/** What a descr means to ferry: a dense dtype it can read, or something it only reports. */
export type NpyDescr =
  | {
      readonly kind: 'dense';
      readonly dtype: DType;
      readonly byteOrder: 'little' | 'big';
      readonly text: string;
    }
  | {
      readonly kind: 'opaque';
      /** `object`, `structured`, or the descr itself (`<U5`, `|S3`, `<c16`, `<M8[ns]`). */
      readonly type: string;
      /** Bytes per element where the descr says; undefined for object arrays (a pickle follows). */
      readonly itemSize: number | undefined;
      /** True when any part is a Python object: the data is a pickle. */
      readonly object: boolean;
      readonly text: string;
    };

/** Bytes per element for a simple descr ferry has no dtype for: `<U5` is 5 UCS-4 chars = 20. */
function simpleItemSize(descr: string): number | undefined {
  const match = /^[<>|=]?([a-zA-Z])(\d*)/.exec(descr);
  if (!match) return undefined;
  const [, kind, digits] = match as unknown as [string, string, string];
  const count = digits === '' ? undefined : Number(digits);
  if (kind === 'O') return 8;
  if (count === undefined || !Number.isSafeInteger(count)) return undefined;
  return kind === 'U' ? count * 4 : count;
}

export function describeDescr(descr: PyValue, path: string): NpyDescr {
  // A plain descr reads best bare (`<f4`); a structured one in Python's notation.
  const text = typeof descr === 'string' ? descr : descrText(descr);
  if (typeof descr === 'string') {
    const dense = dtypeFromNumpy(descr);
    if (dense) return { kind: 'dense', ...dense, text };
    const object = /^[<>|=]?O/.test(descr);
    return {
      kind: 'opaque',
      type: object ? 'object' : descr,
      itemSize: object ? undefined : simpleItemSize(descr),
      object,
      text,
    };
  }
  if (Array.isArray(descr)) {
    const fields = { count: 0 };
    const { size, object } = structSize(descr, path, fields);
    return { kind: 'opaque', type: 'structured', itemSize: object ? undefined : size, object, text };
  }
  throw ferryError('FERRY_NPY_HEADER', {
    path,
    offset: 0,
    reason: `descr ${text} is neither a string nor a list of fields`,
  });
}

/** Sum of field sizes of a structured dtype (NumPy writes padding as explicit `''` void fields). */
function structSize(
  fields: readonly PyValue[],
  path: string,
  counter: { count: number },
): { size: number | undefined; object: boolean } {
  let size: number | undefined = 0;
  let object = false;
  for (const field of fields) {
    if (++counter.count > MAX_STRUCT_FIELDS) {
      throw ferryError('FERRY_LIMIT', {
        path,
        what: 'structured dtype fields',
        value: counter.count,
        limit: MAX_STRUCT_FIELDS,
        reason: 'CWE-770',
      });
    }
    const parts = field instanceof PyTuple ? field.items : Array.isArray(field) ? field : null;
    if (!parts || parts.length < 2 || parts.length > 3) {
      throw ferryError('FERRY_NPY_HEADER', {
        path,
        offset: 0,
        reason: `structured dtype field ${descrText(field)} is not (name, descr[, shape])`,
      });
    }
    const inner = parts[1]!;
    let itemSize: number | undefined;
    if (typeof inner === 'string') {
      const described = describeDescr(inner, path);
      object ||= described.kind === 'opaque' && described.object;
      itemSize = described.kind === 'dense' ? dtypeSize(described.dtype) : described.itemSize;
    } else if (Array.isArray(inner)) {
      const nested = structSize(inner, path, counter);
      object ||= nested.object;
      itemSize = nested.size;
    }
    let repeat = 1;
    const shape = parts[2];
    if (shape !== undefined) {
      const dims = shape instanceof PyTuple ? shape.items : [shape];
      for (const dim of dims) repeat *= typeof dim === 'number' && dim >= 0 ? dim : Number.NaN;
    }
    size =
      size === undefined || itemSize === undefined || !Number.isSafeInteger(repeat)
        ? undefined
        : size + itemSize * repeat;
  }
  return { size: size !== undefined && Number.isSafeInteger(size) ? size : undefined, object };
}

/** A descr back in Python's notation, for messages and details. */
export function descrText(value: PyValue): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  if (value instanceof PyTuple) {
    const items = value.items.map(descrText);
    return `(${items.join(', ')}${items.length === 1 ? ',' : ''})`;
  }
  if (Array.isArray(value)) return `[${value.map(descrText).join(', ')}]`;
  return `{${[...(value as ReadonlyMap<string, PyValue>)].map(([k, v]) => `'${k}': ${descrText(v)}`).join(', ')}}`;
}
