import { ferryError } from '../errors.js';
import type { ByteSource } from '../tensor/byte-source.js';
import { crc32c, crc32cExtend, crc32cMask } from './crc32c.js';

/** Bytes hashed per read when verifying a large variable: bounds memory (CWE-400). */
export const CRC_CHUNK_BYTES = 16 * 1024 * 1024;
/** A DT_STRING variable is checked whole in memory; real ones (vocabularies, object graphs) are far smaller (CWE-770). */
export const MAX_STRING_TENSOR_BYTES = 256 * 1024 * 1024;

export function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/**
 * One variable's bytes in a shard file, as its own ByteSource. A read of the whole range checks
 * the crc32c TensorFlow stored for it (tensor_bundle.cc BundleReader::GetValue compares
 * crc32c::Unmask(entry.crc32c()) with the crc32c of the bytes read), so `readTensorBytes` on a
 * variable's TensorRef never hands out corrupt data. Partial reads cannot be checked.
 */
export class CheckedRange implements ByteSource {
  readonly name: string;
  constructor(
    private readonly shard: ByteSource,
    private readonly start: number,
    readonly size: number,
    /** The unmasked crc32c of the range. */
    readonly expectedCrc: number,
    readonly what: string,
    /** For DT_STRING entries: the element count; their checksum covers lengths differently. */
    private readonly stringElements: number | null = null,
  ) {
    this.name = shard.name;
    if (start + size > shard.size) {
      throw ferryError('FERRY_TRUNCATED', { path: shard.name, what, offset: start, size: shard.size });
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.size
    ) {
      throw ferryError('FERRY_TRUNCATED', {
        path: this.name,
        what: this.what,
        offset: this.start + offset,
        size: this.size,
      });
    }
    const bytes = await this.shard.read(this.start + offset, length);
    if (offset === 0 && length === this.size && this.stringElements === null) this.check(crc32c(bytes));
    return bytes;
  }

  /** Reads the range in bounded chunks and checks its crc32c. */
  async verify(): Promise<void> {
    if (this.stringElements !== null) {
      if (this.size > MAX_STRING_TENSOR_BYTES) {
        throw ferryError('FERRY_LIMIT', {
          path: this.name,
          what: `${this.what} size`,
          value: this.size,
          limit: MAX_STRING_TENSOR_BYTES,
          reason: 'a string variable is checked whole in memory (CWE-770)',
        });
      }
      this.check(this.stringCrc(await this.shard.read(this.start, this.size), this.stringElements));
      return;
    }
    let crc = 0;
    for (let at = 0; at < this.size; at += CRC_CHUNK_BYTES) {
      const length = Math.min(CRC_CHUNK_BYTES, this.size - at);
      crc = crc32cExtend(crc, await this.shard.read(this.start + at, length));
    }
    this.check(crc);
  }

  /**
   * A DT_STRING entry is [varint64 length] x N, a masked crc32c of the lengths, then the bytes; its
   * checksum covers each length as a little-endian uint32 (uint64 above 4 GiB), not the varint
   * bytes, then the stored length checksum, then the bytes (tensor_bundle.cc WriteStringTensor).
   */
  private stringCrc(bytes: Uint8Array, elements: number): number {
    const fail = (reason: string): never => {
      throw ferryError('FERRY_BUNDLE_ENTRY', { path: this.name, tensor: this.what, reason });
    };
    let pos = 0;
    let crc = 0;
    let total = 0;
    const word = new Uint8Array(8);
    const view = new DataView(word.buffer);
    for (let i = 0; i < elements; i++) {
      let value = 0n;
      for (let shift = 0n; ; shift += 7n) {
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
      total += Number(value);
    }
    if (pos + 4 > bytes.length) fail('the length checksum runs past the entry');
    const lengthCrc = new DataView(bytes.buffer, bytes.byteOffset + pos, 4).getUint32(0, true);
    if (lengthCrc !== crc32cMask(crc)) fail('the checksum of the string lengths does not match');
    crc = crc32cExtend(crc, bytes.subarray(pos, pos + 4));
    pos += 4;
    if (bytes.length - pos !== total)
      fail(`the strings need ${total} bytes, the entry has ${bytes.length - pos}`);
    return crc32cExtend(crc, bytes.subarray(pos));
  }

  private check(actual: number): void {
    if (actual !== this.expectedCrc) {
      throw ferryError('FERRY_SAVEDMODEL_CHECKSUM', {
        path: this.name,
        what: this.what,
        offset: this.start,
        actual: hex32(actual),
        expected: hex32(this.expectedCrc),
      });
    }
  }

  async close(): Promise<void> {}
}
