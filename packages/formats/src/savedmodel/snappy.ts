import { ferryError } from '../errors.js';

/**
 * Snappy block decompression (google/snappy format_description.txt). TensorFlow builds its table
 * writer with snappy, and the variables.index files it writes do compress their blocks
 * (tsl/lib/io/table_builder.cc compresses when that saves at least 12.5%).
 */

function fail(path: string, what: string, offset: number, reason: string): never {
  throw ferryError('FERRY_SSTABLE_STRUCTURE', { path, what, offset, reason });
}

/**
 * Decompresses one snappy block into at most `maxOutput` bytes. `at` is the block's file offset,
 * for error messages. Every length and copy offset is checked against what was produced so far,
 * so hostile input cannot read outside the output or allocate more than it declares.
 */
export function snappyDecompress(input: Uint8Array, maxOutput: number, path: string, at: number): Uint8Array {
  let pos = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (shift > 28 || pos >= input.length) fail(path, 'snappy block', at, 'bad uncompressed length varint');
    const byte = input[pos++]!;
    length += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
  }
  if (length > maxOutput) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'snappy block uncompressed size',
      value: length,
      limit: maxOutput,
      reason: 'a decompressed block is held in memory (CWE-409)',
    });
  }
  const out = new Uint8Array(length);
  let op = 0;
  while (pos < input.length) {
    const tagAt = pos;
    const tag = input[pos++]!;
    const type = tag & 3;
    if (type === 0) {
      let literal = tag >>> 2;
      if (literal >= 60) {
        const bytes = literal - 59;
        if (pos + bytes > input.length)
          fail(path, 'snappy literal', at + tagAt, 'length runs past the block');
        literal = 0;
        for (let i = 0; i < bytes; i++) literal += input[pos + i]! * 2 ** (8 * i);
        pos += bytes;
      }
      literal += 1;
      if (literal > input.length - pos)
        fail(path, 'snappy literal', at + tagAt, 'literal runs past the block');
      if (literal > length - op)
        fail(path, 'snappy literal', at + tagAt, 'output exceeds the declared length');
      out.set(input.subarray(pos, pos + literal), op);
      pos += literal;
      op += literal;
      continue;
    }
    let copyLength: number;
    let offset: number;
    if (type === 1) {
      if (pos + 1 > input.length) fail(path, 'snappy copy', at + tagAt, 'offset runs past the block');
      copyLength = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | input[pos++]!;
    } else if (type === 2) {
      if (pos + 2 > input.length) fail(path, 'snappy copy', at + tagAt, 'offset runs past the block');
      copyLength = 1 + (tag >>> 2);
      offset = input[pos]! | (input[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > input.length) fail(path, 'snappy copy', at + tagAt, 'offset runs past the block');
      copyLength = 1 + (tag >>> 2);
      offset =
        (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16) | (input[pos + 3]! << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > op)
      fail(path, 'snappy copy', at + tagAt, `offset ${offset} is outside the ${op} bytes produced`);
    if (copyLength > length - op) fail(path, 'snappy copy', at + tagAt, 'output exceeds the declared length');
    // Copies may overlap their own output (a run): copy byte by byte.
    for (let i = 0; i < copyLength; i++, op++) out[op] = out[op - offset]!;
  }
  if (op !== length) fail(path, 'snappy block', at, `produced ${op} bytes, declared ${length}`);
  return out;
}
