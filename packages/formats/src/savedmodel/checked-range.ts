import { ferryError } from '../errors.js';
import type { ByteSource } from '../tensor/byte-source.js';
import { crc32cExtend } from './crc32c.js';
import { parseStringTensor, splitStrings } from './string-tensor.js';

/** Bytes hashed per read when verifying a large variable: bounds memory (CWE-400). */
export const CRC_CHUNK_BYTES = 16 * 1024 * 1024;
/** A DT_STRING variable is checked whole in memory; real ones (vocabularies, object graphs) are far smaller (CWE-770). */
export const MAX_STRING_TENSOR_BYTES = 256 * 1024 * 1024;

export function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/**
 * One variable's bytes in a shard file, as its own ByteSource. Reading the whole range, at once or
 * in sequential chunks, checks the crc32c TensorFlow stored for it (tensor_bundle.cc
 * BundleReader::GetValue compares crc32c::Unmask(entry.crc32c()) with the crc32c of the bytes
 * read), so `readTensorBytes` and `readTensorChunks` on a variable's TensorRef fail rather than hand
 * out corrupt data (the streaming form fails at its last chunk). Partial reads cannot be checked.
 */
export class CheckedRange implements ByteSource {
  readonly name: string;
  /** Where the next sequential read must start for the running crc to continue; -1 when none is running. */
  private streamAt = -1;
  private streamCrc = 0;
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
    this.checkRange(offset, length);
    const bytes = await this.shard.read(this.start + offset, length);
    this.track(offset, bytes);
    return bytes;
  }

  /** Streaming reads (readTensorChunks): the crc32c is checked when sequential reads reach the end. */
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    this.checkRange(offset, target.length);
    if (this.shard.readInto) await this.shard.readInto(this.start + offset, target);
    else target.set(await this.shard.read(this.start + offset, target.length));
    this.track(offset, target);
  }

  private checkRange(offset: number, length: number): void {
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
  }

  /**
   * Follows reads that run from byte 0 onwards without gaps and checks the crc32c when they reach
   * the end. Reads elsewhere only pause the check; the bytes at an offset never change, so
   * interleaved readers of the same variable still hash the right sequence.
   */
  private track(offset: number, bytes: Uint8Array): void {
    if (this.stringElements !== null) return;
    if (offset === 0) {
      this.streamAt = 0;
      this.streamCrc = 0;
    }
    if (offset !== this.streamAt) return;
    this.streamCrc = crc32cExtend(this.streamCrc, bytes);
    this.streamAt += bytes.length;
    if (this.streamAt === this.size) {
      this.streamAt = -1;
      this.check(this.streamCrc);
    }
  }

  /** A DT_STRING entry's strings, after checking its lengths' and its own crc32c. */
  async readStrings(): Promise<Uint8Array[]> {
    if (this.stringElements === null) {
      throw ferryError('FERRY_BAD_ARGUMENT', { what: this.what, reason: 'not a DT_STRING variable' });
    }
    if (this.size > MAX_STRING_TENSOR_BYTES) {
      throw ferryError('FERRY_LIMIT', {
        path: this.name,
        what: `${this.what} size`,
        value: this.size,
        limit: MAX_STRING_TENSOR_BYTES,
        reason: 'a string variable is checked whole in memory (CWE-770)',
      });
    }
    const bytes = await this.shard.read(this.start, this.size);
    const layout = parseStringTensor(bytes, this.stringElements, this.name, this.what);
    this.check(layout.crc);
    return splitStrings(bytes, layout);
  }

  /** Reads the range in bounded chunks and checks its crc32c. */
  async verify(): Promise<void> {
    if (this.stringElements !== null) {
      await this.readStrings();
      return;
    }
    let crc = 0;
    for (let at = 0; at < this.size; at += CRC_CHUNK_BYTES) {
      const length = Math.min(CRC_CHUNK_BYTES, this.size - at);
      crc = crc32cExtend(crc, await this.shard.read(this.start + at, length));
    }
    this.check(crc);
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
