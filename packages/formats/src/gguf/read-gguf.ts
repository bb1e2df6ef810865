import { ferryError } from '../errors.js';
import type { ByteSource } from '../tensor/byte-source.js';
import { GgufCursor } from './cursor.js';
import { type GgmlType, ggmlType } from './ggml-types.js';
import {
  KEEP_ARRAY_VALUES,
  MAX_ALIGNMENT,
  MAX_ARRAY_DEPTH,
  MAX_ARRAY_LENGTH,
  MAX_DIMS,
  MAX_KEY_BYTES,
  MAX_KV,
  MAX_STRING_BYTES,
  MAX_TENSOR_NAME_BYTES,
  MAX_TENSORS,
} from './limits.js';
import { explainMangled, type MangledValue, replacementCharAt } from './text-mangled.js';

/** gguf_type in ggml/include/gguf.h (the metadata value types). */
export const GGUF_VALUE_TYPES = [
  'UINT8',
  'INT8',
  'UINT16',
  'INT16',
  'UINT32',
  'INT32',
  'FLOAT32',
  'BOOL',
  'STRING',
  'ARRAY',
  'UINT64',
  'INT64',
  'FLOAT64',
] as const;
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];

/** Bytes per element for fixed-size value types; strings and arrays are variable. */
const FIXED_SIZE: Partial<Record<GgufValueType, number>> = {
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  UINT32: 4,
  INT32: 4,
  FLOAT32: 4,
  BOOL: 1,
  UINT64: 8,
  INT64: 8,
  FLOAT64: 8,
};
/** The fewest bytes one element of a type can take: a string is at least its 8-byte length. */
const minSize = (type: GgufValueType): number => FIXED_SIZE[type] ?? (type === 'STRING' ? 8 : 12);

export type GgufScalar = number | bigint | boolean | string;
export interface GgufArray {
  readonly elementType: GgufValueType;
  readonly length: number;
  /** The first KEEP_ARRAY_VALUES elements; the rest were checked and skipped. */
  readonly values: readonly GgufValue[];
}
export type GgufValue = GgufScalar | GgufArray;

export interface GgufKeyValue {
  readonly key: string;
  readonly type: GgufValueType;
  readonly value: GgufValue;
}

export interface GgufTensorInfo {
  readonly name: string;
  /** Dimensions as stored: innermost (fastest-varying) first, ggml's ne[0..n). */
  readonly dims: readonly number[];
  /** The same dimensions in C order (outermost first): ferry's and NumPy's shape. */
  readonly shape: readonly number[];
  readonly type: GgmlType;
  /** Offset from the start of the data section, as stored. */
  readonly relativeOffset: number;
  /** Absolute offset in the file. */
  readonly offset: number;
  readonly byteLength: number;
}

export interface GgufFile {
  readonly version: number;
  readonly byteOrder: 'little' | 'big';
  readonly alignment: number;
  readonly dataOffset: number;
  readonly metadata: readonly GgufKeyValue[];
  readonly tensors: readonly GgufTensorInfo[];
  /** Unused bytes between tensors in the data section (gaps a writer left). */
  readonly gaps: readonly { readonly offset: number; readonly bytes: number }[];
}

/** GGUF_DEFAULT_ALIGNMENT in gguf.h. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
const MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF" as bytes, whatever the file's byte order

export function hasGgufMagic(head: Uint8Array): boolean {
  return head.length >= 4 && MAGIC.every((byte, i) => head[i] === byte);
}

/**
 * Reads a GGUF file's header, metadata and tensor infos with ranged reads (the tensor data is
 * never read) and checks every tensor's byte range against the file (ggml docs/gguf.md).
 */
export async function readGguf(source: ByteSource): Promise<GgufFile> {
  const path = source.name;
  const cur = new GgufCursor(source);
  const structure = (what: string, offset: number, reason: string) =>
    ferryError('FERRY_GGUF_STRUCTURE', { path, what, offset, reason });
  const limit = (what: string, value: number | bigint, max: number, reason: string) =>
    ferryError('FERRY_LIMIT', { path, what, value, limit: max, reason });

  await cur.need(8, 'GGUF header');
  if (!hasGgufMagic(new Uint8Array([cur.u8(), cur.u8(), cur.u8(), cur.u8()]))) {
    throw structure('magic', 0, 'the file does not start with "GGUF"');
  }
  // The version is written in the file's byte order. A version is small, so a value whose low 16
  // bits are zero was written big-endian (gguf-py's GGUFReader does the same test).
  let version = cur.u32();
  if ((version & 0xffff) === 0) {
    cur.littleEndian = false;
    cur.pos -= 4;
    version = cur.u32();
  }
  const byteOrder = cur.littleEndian ? 'little' : 'big';
  if (version === 1) {
    throw ferryError('FERRY_UNSUPPORTED', {
      path,
      what: 'GGUF version 1',
      reason:
        'v1 (2023-08, 32-bit counts) was replaced by v2 within weeks; convert it with a current llama.cpp',
    });
  }
  if (version !== 2 && version !== 3)
    throw structure('version', 4, `unknown version ${version} (ferry reads 2 and 3)`);

  await cur.need(16, 'GGUF header');
  const tensorCount = cur.u64Number('tensor count');
  const kvCount = cur.u64Number('metadata count');
  if (tensorCount > MAX_TENSORS) throw limit('tensor count', tensorCount, MAX_TENSORS, 'CWE-770');
  if (kvCount > MAX_KV) throw limit('metadata count', kvCount, MAX_KV, 'CWE-770');
  // Each key/value takes at least 13 bytes and each tensor info at least 24: check the claim
  // against the file before looping (a 24-byte file cannot hold a million entries).
  if (kvCount * 13 + tensorCount * 24 > cur.remaining) {
    throw structure(
      'header',
      8,
      `${kvCount} key/values and ${tensorCount} tensor infos cannot fit in the ${cur.remaining} bytes left`,
    );
  }

  const readString = async (max: number, strict: boolean, what: string): Promise<string> => {
    if (!cur.has(8)) await cur.need(8, what);
    const at = cur.pos;
    const length = cur.u64();
    if (length > BigInt(max)) throw limit(`${what} length at byte ${at}`, length, max, 'CWE-789');
    const n = Number(length);
    if (!cur.has(n)) await cur.need(n, what);
    return cur.text(n, strict, what);
  };

  // The first number whose bytes hold U+FFFD; reported only if the header then breaks.
  let mangled: MangledValue | undefined;
  const readScalar = (type: GgufValueType, what: string): GgufScalar => {
    if (mangled === undefined) {
      const at = replacementCharAt(cur.peek(FIXED_SIZE[type]! + 2), FIXED_SIZE[type]!);
      if (at >= 0) mangled = { what: `${what} (${type})`, offset: cur.pos + at };
    }
    switch (type) {
      case 'UINT8':
        return cur.u8();
      case 'INT8':
        return cur.i8();
      case 'UINT16':
        return cur.u16();
      case 'INT16':
        return cur.i16();
      case 'UINT32':
        return cur.u32();
      case 'INT32':
        return cur.i32();
      case 'FLOAT32':
        return cur.f32();
      case 'BOOL':
        return cur.u8() !== 0;
      case 'UINT64':
        return cur.u64();
      case 'INT64':
        return cur.i64();
      default:
        return cur.f64();
    }
  };

  const readType = async (what: string): Promise<GgufValueType> => {
    if (!cur.has(4)) await cur.need(4, what);
    const at = cur.pos;
    const code = cur.u32();
    const type = GGUF_VALUE_TYPES[code];
    if (type === undefined) throw structure(what, at, `unknown value type ${code}`);
    return type;
  };

  const readValue = async (type: GgufValueType, depth: number, what: string): Promise<GgufValue> => {
    if (type === 'STRING') return readString(MAX_STRING_BYTES, false, what);
    if (type !== 'ARRAY') {
      const size = FIXED_SIZE[type]!;
      if (!cur.has(size)) await cur.need(size, what);
      return readScalar(type, what);
    }
    if (depth >= MAX_ARRAY_DEPTH) throw limit(`${what} array nesting`, depth + 1, MAX_ARRAY_DEPTH, 'CWE-674');
    const elementType = await readType(`${what} element type`);
    if (!cur.has(8)) await cur.need(8, what);
    const at = cur.pos;
    const length = cur.u64();
    if (length > BigInt(MAX_ARRAY_LENGTH))
      throw limit(`${what} length at byte ${at}`, length, MAX_ARRAY_LENGTH, 'CWE-770');
    const n = Number(length);
    if (n * minSize(elementType) > cur.remaining) {
      throw structure(
        what,
        at,
        `an array of ${n} ${elementType} cannot fit in the ${cur.remaining} bytes left`,
      );
    }
    const values: GgufValue[] = [];
    const fixed = FIXED_SIZE[elementType];
    if (fixed !== undefined) {
      const kept = Math.min(n, KEEP_ARRAY_VALUES);
      await cur.need(kept * fixed, what);
      for (let i = 0; i < kept; i++) values.push(readScalar(elementType, what));
      cur.skip((n - kept) * fixed, what);
    } else {
      for (let i = 0; i < n; i++) {
        const value = await readValue(elementType, depth + 1, what);
        if (i < KEEP_ARRAY_VALUES) values.push(value);
      }
    }
    return { elementType, length: n, values };
  };

  const metadata: GgufKeyValue[] = [];
  const keys = new Set<string>();
  try {
    for (let i = 0; i < kvCount; i++) {
      const at = cur.pos;
      const key = await readString(MAX_KEY_BYTES, true, `metadata key ${i}`);
      if (keys.has(key)) throw structure(`metadata key ${JSON.stringify(key)}`, at, 'duplicate key');
      keys.add(key);
      const type = await readType(`metadata ${key}`);
      const value = await readValue(type, 0, `metadata ${key}`);
      metadata.push({ key, type, value });
    }
  } catch (error) {
    throw explainMangled(error, mangled, path);
  }

  const alignment = readAlignment(metadata, path);

  interface RawInfo {
    name: string;
    dims: number[];
    type: GgmlType;
    relativeOffset: number;
    at: number;
  }
  const raw: RawInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const at = cur.pos;
    const name = await readString(MAX_TENSOR_NAME_BYTES, true, `tensor info ${i} name`);
    if (names.has(name))
      throw ferryError('FERRY_GGUF_TENSOR', { path, tensor: name, reason: 'duplicate tensor name' });
    names.add(name);
    await cur.need(4, `tensor ${name}`);
    const nDims = cur.u32();
    if (nDims > MAX_DIMS) throw limit(`tensor ${name} dimension count`, nDims, MAX_DIMS, 'GGML_MAX_DIMS');
    await cur.need(nDims * 8 + 12, `tensor ${name}`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(cur.u64Number(`tensor ${name} dimension ${d}`));
    const code = cur.u32();
    const type = ggmlType(code);
    if (!type)
      throw ferryError('FERRY_GGUF_TENSOR', { path, tensor: name, reason: `unknown ggml type ${code}` });
    const relativeOffset = cur.u64Number(`tensor ${name} offset`);
    raw.push({ name, dims, type, relativeOffset, at });
  }

  // The data section starts at the next multiple of the alignment (GGUF spec), but llama.cpp's
  // gguf_init_from_file_impl seeks there only when there are tensors (`if (n_tensors > 0)`):
  // with none, its offset is where the tensor infos end, so it never points past the file.
  const dataOffset = tensorCount > 0 ? Math.ceil(cur.pos / alignment) * alignment : cur.pos;
  if (tensorCount > 0 && dataOffset > source.size) {
    throw ferryError('FERRY_TRUNCATED', {
      path,
      what: 'GGUF data section',
      offset: dataOffset,
      size: source.size,
    });
  }
  const tensors = raw.map((info) => tensorInfo(info, dataOffset, alignment, source));
  return {
    version,
    byteOrder,
    alignment,
    dataOffset,
    metadata,
    tensors,
    gaps: checkLayout(tensors, dataOffset, alignment, path),
  };
}

function readAlignment(metadata: readonly GgufKeyValue[], path: string): number {
  const entry = metadata.find((kv) => kv.key === 'general.alignment');
  if (!entry) return GGUF_DEFAULT_ALIGNMENT;
  // gguf.cpp reads it with gguf_get_val_u32 and requires a power of two (GGML_PAD's bit trick).
  const value = entry.value;
  if (entry.type !== 'UINT32' || typeof value !== 'number' || value === 0 || (value & (value - 1)) !== 0) {
    throw ferryError('FERRY_GGUF_STRUCTURE', {
      path,
      what: 'general.alignment',
      offset: 0,
      reason: `must be a UINT32 power of two, is ${entry.type} ${String(value)}`,
    });
  }
  if (value > MAX_ALIGNMENT) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'general.alignment',
      value,
      limit: MAX_ALIGNMENT,
      reason: 'CWE-770',
    });
  }
  return value;
}

function tensorInfo(
  info: { name: string; dims: number[]; type: GgmlType; relativeOffset: number },
  dataOffset: number,
  alignment: number,
  source: ByteSource,
): GgufTensorInfo {
  const path = source.name;
  const bad = (reason: string) => ferryError('FERRY_GGUF_TENSOR', { path, tensor: info.name, reason });
  const { type, dims } = info;
  // Blocks run along the innermost dimension: a row must be whole blocks (gguf.cpp checks ne[0]).
  if (dims.length > 0 && dims[0]! % type.blockSize !== 0) {
    throw bad(
      `row of ${dims[0]} elements is not a multiple of the ${type.name} block size ${type.blockSize}`,
    );
  }
  let count = 1n;
  for (const dim of dims) count *= BigInt(dim);
  const bytes = (count / BigInt(type.blockSize)) * BigInt(type.typeSize);
  if (info.relativeOffset % alignment !== 0) {
    throw bad(`offset ${info.relativeOffset} is not a multiple of the alignment ${alignment}`);
  }
  const end = BigInt(dataOffset) + BigInt(info.relativeOffset) + bytes;
  if (end > BigInt(source.size)) {
    throw bad(
      `its ${bytes} bytes at data offset ${info.relativeOffset} end at byte ${end}, past the end of the file (${source.size} bytes)`,
    );
  }
  return {
    name: info.name,
    dims,
    shape: [...dims].reverse(),
    type,
    relativeOffset: info.relativeOffset,
    offset: dataOffset + info.relativeOffset,
    byteLength: Number(bytes),
  };
}

/** Tensors must not overlap (two names, one set of bytes); gaps beyond alignment padding are reported. */
function checkLayout(
  tensors: readonly GgufTensorInfo[],
  dataOffset: number,
  alignment: number,
  path: string,
): { offset: number; bytes: number }[] {
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset);
  const gaps: { offset: number; bytes: number }[] = [];
  let end = dataOffset;
  let previous: GgufTensorInfo | undefined;
  for (const tensor of sorted) {
    if (tensor.offset < end) {
      throw ferryError('FERRY_GGUF_TENSOR', {
        path,
        tensor: tensor.name,
        reason: `its bytes from ${tensor.offset} overlap tensor ${previous?.name} (which ends at ${end})`,
      });
    }
    // Writers pad each tensor to the alignment (gguf-py write_padding); more than that is a gap.
    const padded = dataOffset + Math.ceil((end - dataOffset) / alignment) * alignment;
    if (tensor.offset > padded) gaps.push({ offset: padded, bytes: tensor.offset - padded });
    end = tensor.offset + tensor.byteLength;
    previous = tensor;
  }
  return gaps;
}
