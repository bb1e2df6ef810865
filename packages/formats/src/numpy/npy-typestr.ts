import { isCommastring } from './npy-commastring.js';

/**
 * `numpy.dtype(str)` for one string, as NumPy 1.24 does it (numpy/core/src/multiarray/
 * descriptor.c `_convert_from_str`), on a little-endian machine. Returns numpy's `dtype.str`
 * (`<i4`, `|O`, `>U5`, `<M8[ns]`) and item size, or a reason it refuses. Spellings NumPy takes
 * but ferry does not interpret (datetime divisors, negative or wrapped-around sizes) are refused
 * too: the caller fails closed.
 */
export interface NpScalar {
  readonly kind: 'scalar';
  /** numpy's `dtype.str`: byte order (`<`, `>` or `|`), kind letter, size or unit. */
  readonly str: string;
  readonly itemSize: number;
}

/** `PyArray_DescrFromType(c)` for a one-character string: type numbers 0-23, 26, and letters. */
const TYPE_CHARS: Readonly<Record<string, string>> = {
  '\x00': '|b1',
  '\x01': '|i1',
  '\x02': '|u1',
  '\x03': '<i2',
  '\x04': '<u2',
  '\x05': '<i4',
  '\x06': '<u4',
  '\x07': '<i8',
  '\x08': '<u8',
  '\t': '<i8',
  '\n': '<u8',
  '\x0b': '<f4',
  '\x0c': '<f8',
  '\r': '<f16',
  '\x0e': '<c8',
  '\x0f': '<c16',
  '\x10': '<c32',
  '\x11': '|O', // NPY_OBJECT = 17: np.dtype('\x11') is an object dtype
  '\x12': '|S0',
  '\x13': '<U0',
  '\x14': '|V0',
  '\x15': '<M8',
  '\x16': '<m8',
  '\x17': '<f2',
  '\x1a': '|S1',
  '?': '|b1',
  b: '|i1',
  B: '|u1',
  h: '<i2',
  H: '<u2',
  i: '<i4',
  I: '<u4',
  l: '<i8',
  L: '<u8',
  q: '<i8',
  Q: '<u8',
  p: '<i8',
  P: '<u8',
  e: '<f2',
  f: '<f4',
  d: '<f8',
  g: '<f16',
  F: '<c8',
  D: '<c16',
  G: '<c32',
  O: '|O',
  S: '|S0',
  a: '|S0',
  c: '|S1',
  U: '<U0',
  V: '|V0',
  M: '<M8',
  m: '<m8',
};

/** `PyArray_TypestrConvert(size, kind)`: the kind letters with a byte size. */
const SIZED: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  b: { 1: '|b1' },
  i: { 1: '|i1', 2: '<i2', 4: '<i4', 8: '<i8' },
  u: { 1: '|u1', 2: '<u2', 4: '<u4', 8: '<u8' },
  f: { 2: '<f2', 4: '<f4', 8: '<f8', 16: '<f16' },
  c: { 8: '<c8', 16: '<c16', 32: '<c32' },
  O: { 4: '|O', 8: '|O' },
};

/**
 * numpy's `typeDict` (np.sctypeDict, NumPy 1.24): looked up with the whole string, byte-order
 * character included, when nothing above matched (so `'object'` works and `'<object'` does not).
 */
const ALIASES: Readonly<Record<string, string>> = {
  byte: '|i1',
  ubyte: '|u1',
  short: '<i2',
  ushort: '<u2',
  uint: '<u8',
  intp: '<i8',
  uintp: '<u8',
  long: '<i8',
  ulong: '<u8',
  longlong: '<i8',
  ulonglong: '<u8',
  half: '<f2',
  double: '<f8',
  longdouble: '<f16',
  cfloat: '<c16',
  cdouble: '<c16',
  clongdouble: '<c32',
  unicode: '<U0',
  void: '|V0',
  b1: '|b1',
  bool8: '|b1',
  i8: '<i8',
  int64: '<i8',
  u8: '<u8',
  uint64: '<u8',
  f2: '<f2',
  float16: '<f2',
  f4: '<f4',
  float32: '<f4',
  f8: '<f8',
  float64: '<f8',
  f16: '<f16',
  float128: '<f16',
  c8: '<c8',
  complex64: '<c8',
  c16: '<c16',
  complex128: '<c16',
  c32: '<c32',
  complex256: '<c32',
  object0: '|O',
  bytes0: '|S0',
  str0: '<U0',
  void0: '|V0',
  int32: '<i4',
  i4: '<i4',
  uint32: '<u4',
  u4: '<u4',
  int16: '<i2',
  i2: '<i2',
  uint16: '<u2',
  u2: '<u2',
  int8: '|i1',
  i1: '|i1',
  uint8: '|u1',
  u1: '|u1',
  complex_: '<c16',
  single: '<f4',
  csingle: '<c8',
  singlecomplex: '<c8',
  float_: '<f8',
  intc: '<i4',
  uintc: '<u4',
  int_: '<i8',
  longfloat: '<f16',
  clongfloat: '<c32',
  longcomplex: '<c32',
  bool_: '|b1',
  bytes_: '|S0',
  string_: '|S0',
  str_: '<U0',
  unicode_: '<U0',
  object_: '|O',
  int: '<i8',
  float: '<f8',
  complex: '<c16',
  bool: '|b1',
  object: '|O',
  str: '<U0',
  bytes: '|S0',
  int0: '<i8',
  uint0: '<u8',
};

const DATETIME_UNITS = new Set(['Y', 'M', 'W', 'D', 'h', 'm', 's', 'ms', 'us', 'ns', 'ps', 'fs', 'as']);
/** numpy's item sizes are C ints (NumPy 1.x); bigger is refused before any arithmetic. */
const MAX_ITEM_SIZE = 0x7fff_ffff;

/** Item size of a numpy `dtype.str` of a built-in kind. */
function sizeOf(str: string): number {
  const kind = str[1]!;
  const digits = Number(/\d+/.exec(str.slice(2))?.[0] ?? '0');
  if (kind === 'O' || kind === 'M' || kind === 'm') return 8;
  if (kind === 'U') return digits * 4;
  return digits;
}

function scalar(str: string): NpScalar {
  return { kind: 'scalar', str, itemSize: sizeOf(str) };
}

/** The string's dtype, or a reason numpy or ferry refuses it. */
export function typestrDtype(text: string): NpScalar | string {
  if (text.length === 0) return 'an empty string';
  // The comma/repeat form ('i4,O', '2O') is a structured or subarray dtype: npy-dtype.ts expands
  // it (npy-commastring.ts) before calling this.
  if (isCommastring(text)) return 'the comma/repeat form is not a single type';
  // Non-ASCII: numpy works on UTF-8 bytes; only 'M8[μs]' could ever mean something. Refused.
  if (!/^[\x00-\x7f]*$/.test(text)) return 'non-ASCII characters';
  let endian = '=';
  let type = text;
  if ('<>=|'.includes(text[0]!)) {
    endian = text[0] === '|' ? '=' : text[0]!;
    type = text.slice(1);
  }
  if (type.length === 0) return 'only a byte-order character';
  const big = endian === '>';

  // is_datetime_typestr: 'M8'/'m8' or 'datetime64'/'timedelta64', then optional [unit].
  const datetime = /^(?:([Mm])8|(datetime|timedelta)64)(.*)$/s.exec(type);
  if (datetime) {
    const letter = datetime[1] ?? (datetime[2] === 'datetime' ? 'M' : 'm');
    const meta = datetime[3]!;
    let unit = '';
    if (meta !== '') {
      const match = /^\[([1-9]\d{0,8})?([A-Za-z]+)\]$/.exec(meta);
      if (!match) return `datetime metadata ${JSON.stringify(meta)} is not [N unit]`;
      const [, count, name] = match as unknown as [string, string | undefined, string];
      if (name !== 'generic' && !DATETIME_UNITS.has(name)) return `unknown datetime unit ${name}`;
      if (name !== 'generic') unit = `[${count && count !== '1' ? count : ''}${name}]`;
    }
    return { kind: 'scalar', str: `${big ? '>' : '<'}${letter}8${unit}`, itemSize: 8 };
  }

  let found: string | undefined;
  let size = -1; // for the unsized kinds S, U, V: the size the string gave
  if (type.length === 1) found = TYPE_CHARS[type];
  else {
    const kind = type[0]!;
    const rest = type.slice(1);
    // strtol: leading C whitespace and a sign are taken ('O +8' is an object, 'U 5' is '<U5').
    const sized = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(rest);
    if (sized) {
      const number = Number(sized[2]);
      if (!Number.isSafeInteger(number) || number > MAX_ITEM_SIZE) return `size ${rest} is too large`;
      const negative = sized[1] === '-' && number !== 0;
      if (kind === 'S' || kind === 'a' || kind === 'U' || kind === 'V') {
        // numpy builds a negative item size here ('S-1'); ferry refuses it.
        if (negative) return `negative size ${rest}`;
        if (kind === 'U' && number * 4 > MAX_ITEM_SIZE) return `size ${rest} is too large`;
        found = kind === 'U' ? '<U0' : kind === 'V' ? '|V0' : '|S0';
        size = number;
      } else if (number !== 0 && !negative) found = SIZED[kind]?.[number];
    }
  }
  if (found === undefined) {
    const alias = ALIASES[text];
    return alias === undefined ? 'numpy does not understand this type string' : scalar(alias);
  }
  let str = found;
  if (size >= 0) str = `${str.slice(0, 2)}${size}`;
  // A byte order is kept only for kinds that have one ('>O' and '>S5' are '|O', '|S5').
  if (big && str[0] === '<') str = `>${str.slice(1)}`;
  return scalar(str);
}
