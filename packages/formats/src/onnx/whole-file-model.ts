import type { ByteSource } from '../tensor/byte-source.js';
import { MAX_TOP_LEVEL_FIELDS } from './limits.js';

/**
 * True when the whole file parses as protobuf the way onnx.load's parser reads a ModelProto:
 * top-level fields with valid tags and wire types, lengths inside the file, ending exactly at its
 * end, with a graph (field 7). Unlike looksLikeOnnx (detection), unknown fields are allowed,
 * since protobuf skips them: that is how a file can be ONNX and also something else (a pickle
 * hidden in an unknown field, a zip in one at the end). Reads a few bytes per field.
 */
export async function wholeFileIsModelProto(source: ByteSource): Promise<boolean> {
  let pos = 0;
  let graph = false;
  for (let fields = 0; pos < source.size; fields++) {
    if (fields >= MAX_TOP_LEVEL_FIELDS) return false;
    const bytes = await source.read(pos, Math.min(20, source.size - pos));
    let at = 0;
    const varint = (): bigint | undefined => {
      let result = 0n;
      for (let i = 0; i < 10 && at < bytes.length; i++) {
        const byte = bytes[at++]!;
        result |= BigInt(byte & 0x7f) << BigInt(7 * i);
        if ((byte & 0x80) === 0) return result;
      }
      return undefined;
    };
    const tag = varint();
    if (tag === undefined || tag >> 3n === 0n) return false;
    const wire = Number(tag & 7n);
    if (wire === 0) {
      if (varint() === undefined) return false;
      pos += at;
    } else if (wire === 1 || wire === 5) {
      pos += at + (wire === 1 ? 8 : 4);
    } else if (wire === 2) {
      const length = varint();
      if (length === undefined || length > BigInt(source.size - pos - at)) return false;
      if (tag >> 3n === 7n) graph = true;
      pos += at + Number(length);
    } else {
      return false; // groups (3, 4) are not in onnx.proto; 6, 7 do not exist
    }
  }
  return graph && pos === source.size;
}
