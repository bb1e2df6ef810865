import { ferryError } from '../errors.js';
import type { ByteSource } from '../tensor/byte-source.js';
import { MAX_NPY_DIMS, MAX_NPY_HEADER_BYTES } from './limits.js';
import { describeDescr, type NpyDescr } from './npy-descr.js';
import { PyTuple, parsePyLiteral } from './py-literal.js';

/** `\x93NUMPY` (numpy/lib/format.py MAGIC_PREFIX). */
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

export function hasNpyMagic(head: Uint8Array): boolean {
  return head.length >= 6 && MAGIC.every((byte, i) => head[i] === byte);
}

export interface NpyHeader {
  /** `1.0`, `2.0` or `3.0`. */
  readonly version: string;
  readonly descr: NpyDescr;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  /** Where the array data starts: right after the header. */
  readonly dataOffset: number;
}

/**
 * Reads a .npy header (numpy/lib/format.py): magic, version, a little-endian header length
 * (u16 in 1.0, u32 in 2.0 and 3.0), then a Python dict literal, latin-1 in 1.0/2.0 and UTF-8
 * in 3.0. `readPrefix(n)` returns up to the first n bytes of the file.
 */
export async function readNpyHeader(
  path: string,
  size: number,
  readPrefix: (length: number) => Promise<Uint8Array>,
): Promise<NpyHeader> {
  const bad = (offset: number, reason: string) => ferryError('FERRY_NPY_HEADER', { path, offset, reason });
  if (size < 10) throw ferryError('FERRY_TRUNCATED', { path, what: 'npy header', offset: 0, size });
  // A deflated .npz member can inflate to fewer bytes than its directory entry claims, so every
  // prefix is checked for length rather than trusted.
  const prefix = async (length: number, what: string) => {
    const bytes = await readPrefix(length);
    if (bytes.length < length)
      throw ferryError('FERRY_TRUNCATED', { path, what, offset: bytes.length, size: bytes.length });
    return bytes;
  };
  const head = await prefix(Math.min(size, 12), 'npy preamble');
  if (!hasNpyMagic(head)) throw bad(0, 'the file does not start with \\x93NUMPY');
  const major = head[6]!;
  const minor = head[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0) throw bad(6, `unknown format version ${major}.${minor}`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (major > 1 && head.length < 12)
    throw ferryError('FERRY_TRUNCATED', { path, what: 'npy header', offset: 8, size });
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (headerLength > MAX_NPY_HEADER_BYTES) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'npy header length',
      value: headerLength,
      limit: MAX_NPY_HEADER_BYTES,
      reason: 'CWE-770; numpy itself stops at 10000 by default',
    });
  }
  if (start + headerLength > size) {
    throw ferryError('FERRY_TRUNCATED', {
      path,
      what: `npy header of ${headerLength} bytes`,
      offset: start,
      size,
    });
  }
  const bytes = (await prefix(start + headerLength, `npy header of ${headerLength} bytes`)).subarray(start);
  let text: string;
  if (major === 3) {
    try {
      // ignoreBOM: Python's 'utf8' codec keeps a BOM, and ast then refuses it.
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw bad(start, 'header is not valid UTF-8');
    }
  } else {
    // ISO-8859-1 byte for byte (TextDecoder's 'latin1' is windows-1252, which remaps 0x80-0x9f).
    text = '';
    for (let at = 0; at < bytes.length; at += 8192)
      text += String.fromCharCode(...bytes.subarray(at, at + 8192));
  }
  const dict = parsePyLiteral(text, path, start, { python2Long: major < 3, utf8: major === 3 });
  if (!(dict instanceof Map)) throw bad(start, 'header is not a dictionary');
  const keys = [...dict.keys()].sort().join(',');
  // numpy's _read_array_header refuses missing and extra keys alike.
  if (keys !== 'descr,fortran_order,shape')
    throw bad(start, `header keys are {${keys}}, not descr, fortran_order, shape`);
  const fortranOrder = dict.get('fortran_order');
  if (typeof fortranOrder !== 'boolean') throw bad(start, 'fortran_order is not True or False');
  const shapeValue = dict.get('shape');
  if (!(shapeValue instanceof PyTuple)) throw bad(start, 'shape is not a tuple');
  if (shapeValue.items.length > MAX_NPY_DIMS) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'npy dimensions',
      value: shapeValue.items.length,
      limit: MAX_NPY_DIMS,
      reason: 'NPY_MAXDIMS',
    });
  }
  const shape = shapeValue.items.map((dim) => {
    if (typeof dim !== 'number' || dim < 0)
      throw bad(start, `shape entry ${String(dim)} is not a non-negative integer`);
    return dim;
  });
  return {
    version: `${major}.${minor}`,
    descr: describeDescr(dict.get('descr')!, path, start),
    fortranOrder,
    shape,
    dataOffset: start + headerLength,
  };
}

/** The header of a .npy file (or window) read by ranges. */
export function readNpyHeaderFrom(source: ByteSource): Promise<NpyHeader> {
  return readNpyHeader(source.name, source.size, (length) => source.read(0, Math.min(length, source.size)));
}
