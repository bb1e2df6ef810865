import { ferryError } from '../errors.js';
import { type DType, dtypeFromNumpy } from '../tensor/dtype.js';
import { containsObject, DescrRefused, interpretDescr, type NpDtype } from './npy-dtype.js';
import { PyBytes, PyTuple, type PyValue } from './py-literal.js';

/** What a descr means to ferry: a dense dtype it can read, or something it only reports. */
export type NpyDescr =
  | {
      readonly kind: 'dense';
      readonly dtype: DType;
      readonly byteOrder: 'little' | 'big';
      readonly text: string;
      /** The dtype numpy builds from the descr. */
      readonly numpy: NpDtype;
    }
  | {
      readonly kind: 'opaque';
      /** `object` (an object anywhere inside), `structured`, `subarray`, or numpy's dtype.str
       * (`<U5`, `|S3`, `<c16`, `<M8[ns]`). */
      readonly type: string;
      /** Bytes per element where the descr says; undefined for object arrays (a pickle follows). */
      readonly itemSize: number | undefined;
      /** True when any part is a Python object: the data is a pickle. */
      readonly object: boolean;
      readonly text: string;
      /** The dtype numpy builds from the descr. */
      readonly numpy: NpDtype;
    };

/**
 * What ferry makes of a header's descr: interpreted exactly as numpy.dtype would (npy-dtype.ts),
 * or refused with FERRY_NPY_DESCR. `offset` is where the header dictionary starts.
 */
export function describeDescr(descr: PyValue, path: string, offset = 0): NpyDescr {
  // A plain descr reads best bare (`<f4`); a structured one in Python's notation.
  const text = typeof descr === 'string' && /^[\x20-\x7e]*$/.test(descr) ? descr : descrText(descr);
  let dtype: NpDtype;
  try {
    dtype = interpretDescr(descr);
  } catch (error) {
    if (!(error instanceof DescrRefused)) throw error;
    throw ferryError('FERRY_NPY_DESCR', { path, offset, descr: text.slice(0, 200), reason: error.message });
  }
  if (dtype.kind === 'scalar') {
    const dense = dtypeFromNumpy(dtype.str);
    if (dense) return { kind: 'dense', ...dense, text, numpy: dtype };
  }
  const object = containsObject(dtype);
  return {
    kind: 'opaque',
    type: object
      ? 'object'
      : dtype.kind === 'struct'
        ? 'structured'
        : dtype.kind === 'subarray'
          ? 'subarray'
          : dtype.str,
    itemSize: object ? undefined : dtype.itemSize,
    object,
    text,
    numpy: dtype,
  };
}

/** A descr back in Python's notation, for messages and details. */
export function descrText(value: PyValue): string {
  // Escaped like Python's repr so a message stays one printable line ('\x11' is a valid descr).
  if (typeof value === 'string') return `'${pyEscape(value)}'`;
  if (value instanceof PyBytes) return `b'${pyEscape(String.fromCharCode(...value.bytes))}'`;
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  if (value instanceof PyTuple) {
    const items = value.items.map(descrText);
    return `(${items.join(', ')}${items.length === 1 ? ',' : ''})`;
  }
  if (Array.isArray(value)) return `[${value.map(descrText).join(', ')}]`;
  return `{${[...(value as ReadonlyMap<string, PyValue>)].map(([k, v]) => `${descrText(k)}: ${descrText(v)}`).join(', ')}}`;
}

function pyEscape(text: string): string {
  return text.replace(/[^\x20-\x7e]|['\\]/g, (char) => {
    if (char === "'" || char === '\\') return `\\${char}`;
    const code = char.codePointAt(0)!;
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
