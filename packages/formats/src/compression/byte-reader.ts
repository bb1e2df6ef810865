import { ferryError } from '../errors.js';

/** Synchronous random access to compressed bytes: a buffer, or a file read in windows. */
export interface CompressedInput {
  /** One past the last readable offset. */
  readonly end: number;
  /** Up to `length` bytes at `offset` (a view that stays valid until the next call). */
  read(offset: number, length: number): Uint8Array;
}

/** Bytes pulled from the input per refill: a compressed file is never held whole. */
const CHUNK_BYTES = 256 * 1024;

/**
 * Reads a compressed stream front to back in chunks, so a decoder keeps only its window and
 * its output, never the whole compressed file. Offsets in errors are absolute file offsets.
 */
export class ByteReader {
  private chunk = new Uint8Array(0);
  private at = 0;
  /** Absolute offset of chunk[0]. */
  private base: number;

  constructor(
    private readonly input: CompressedInput,
    readonly path: string,
    readonly format: string,
    start = 0,
  ) {
    this.base = start;
  }

  /** Absolute offset of the next byte. */
  get offset(): number {
    return this.base + this.at;
  }

  /** Whether the input has no more bytes. */
  atEnd(): boolean {
    return this.at >= this.chunk.length && this.base + this.chunk.length >= this.input.end;
  }

  byte(what = 'data'): number {
    if (this.at < this.chunk.length) return this.chunk[this.at++]!;
    this.refill(what);
    return this.chunk[this.at++]!;
  }

  /** `length` bytes, copied (they may span chunks). */
  bytes(length: number, what: string): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      if (this.at >= this.chunk.length) this.refill(what);
      const n = Math.min(length - done, this.chunk.length - this.at);
      out.set(this.chunk.subarray(this.at, this.at + n), done);
      this.at += n;
      done += n;
    }
    return out;
  }

  /** Copies `length` bytes into `target` at `into` (a stored block, an LZ4 literal run). */
  copyInto(target: Uint8Array, into: number, length: number, what: string): void {
    let done = 0;
    while (done < length) {
      if (this.at >= this.chunk.length) this.refill(what);
      const n = Math.min(length - done, this.chunk.length - this.at);
      target.set(this.chunk.subarray(this.at, this.at + n), into + done);
      this.at += n;
      done += n;
    }
  }

  /** Up to `length` bytes without consuming them (fewer only at the end of the input). */
  peek(length: number): Uint8Array {
    if (this.chunk.length - this.at < length) {
      const offset = this.offset;
      const n = Math.min(Math.max(length, CHUNK_BYTES), this.input.end - offset);
      this.chunk = n > 0 ? this.input.read(offset, n).slice() : new Uint8Array(0);
      this.base = offset;
      this.at = 0;
    }
    return this.chunk.subarray(this.at, this.at + length);
  }

  skip(length: number, what: string): void {
    let left = length;
    while (left > 0) {
      if (this.at >= this.chunk.length) this.refill(what);
      const n = Math.min(left, this.chunk.length - this.at);
      this.at += n;
      left -= n;
    }
  }

  private refill(what: string): void {
    const offset = this.offset;
    const n = Math.min(CHUNK_BYTES, this.input.end - offset);
    if (n <= 0)
      throw ferryError('FERRY_COMPRESSED_TRUNCATED', { path: this.path, format: this.format, offset, what });
    // A copy: a FileInput window is reused by its next read.
    this.chunk = this.input.read(offset, n).slice();
    this.base = offset;
    this.at = 0;
  }

  /** An error at the current offset: the stream breaks a rule of its format. */
  fail(reason: string, offset = this.offset): never {
    throw ferryError('FERRY_COMPRESSED_STREAM', { path: this.path, format: this.format, offset, reason });
  }
}

/** A whole buffer as compressed input. */
export function bufferInput(bytes: Uint8Array): CompressedInput {
  return { end: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}
