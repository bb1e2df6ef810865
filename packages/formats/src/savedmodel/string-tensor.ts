import { ferryError } from '../errors.js';
import { crc32cExtend, crc32cMask } from './crc32c.js';

/**
 * The TensorBundle layout of a DT_STRING tensor (tensor_bundle.cc WriteStringTensor):
 * [varint64 length] x N, then a 4-byte masked crc32c of the lengths, then the bytes back to back.
 * The lengths' checksum covers each length as a little-endian uint32 (uint64 above 4 GiB), not the
 * varint bytes; the entry's crc32c continues over the stored length checksum and the bytes.
 */
export interface StringTensorLayout {
  readonly lengths: readonly number[];
  /** Offset of the first string byte. */
  readonly dataStart: number;
  /** The entry's crc32c (unmasked), as BundleReader computes it on restore. */
  readonly crc: number;
}

export function parseStringTensor(
  bytes: Uint8Array,
  elements: number,
  path: string,
  tensor: string,
): StringTensorLayout {
  const fail = (reason: string): never => {
    throw ferryError('FERRY_BUNDLE_ENTRY', { path, tensor, reason });
  };
  let pos = 0;
  let crc = 0;
  let total = 0;
  const lengths: number[] = [];
  const word = new Uint8Array(8);
  const view = new DataView(word.buffer);
  for (let i = 0; i < elements; i++) {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      // Each length takes at least one byte, so a hostile element count stops at the entry's end.
      if (pos >= bytes.length || shift > 63n) fail(`string length ${i} is not a varint within the entry`);
      const byte = bytes[pos++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
    }
    if (value > 0xffffffffn) {
      view.setBigUint64(0, value, true);
      crc = crc32cExtend(crc, word);
    } else {
      view.setUint32(0, Number(value), true);
      crc = crc32cExtend(crc, word.subarray(0, 4));
    }
    if (value > BigInt(bytes.length)) fail(`string ${i} of ${value} bytes is longer than the entry`);
    total += Number(value);
    lengths.push(Number(value));
  }
  if (pos + 4 > bytes.length) fail('the length checksum runs past the entry');
  const lengthCrc = new DataView(bytes.buffer, bytes.byteOffset + pos, 4).getUint32(0, true);
  if (lengthCrc !== crc32cMask(crc)) fail('the checksum of the string lengths does not match');
  crc = crc32cExtend(crc, bytes.subarray(pos, pos + 4));
  pos += 4;
  if (bytes.length - pos !== total)
    fail(`the strings need ${total} bytes, the entry has ${bytes.length - pos}`);
  return { lengths, dataStart: pos, crc: crc32cExtend(crc, bytes.subarray(pos)) };
}

/** The strings themselves, as views of `bytes`. */
export function splitStrings(bytes: Uint8Array, layout: StringTensorLayout): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = layout.dataStart;
  for (const length of layout.lengths) {
    out.push(bytes.subarray(at, at + length));
    at += length;
  }
  return out;
}
