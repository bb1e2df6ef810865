import { closeSync, openSync, readSync } from 'node:fs';
import { ferryError } from '../errors.js';

/**
 * The bytes the pickle machine runs over, read synchronously (the machine is a tight loop over
 * one-byte opcodes). Offsets are absolute in `name`'s coordinates, so error messages and
 * findings point at the real byte of the real file.
 */
export interface PickleInput {
  readonly name: string;
  /** First and one-past-last readable offsets. */
  readonly start: number;
  readonly end: number;
  /** Exactly `length` bytes at absolute `offset`; the caller has checked the range. */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

export class BufferInput implements PickleInput {
  readonly start: number;
  readonly end: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly name = '<buffer>',
    /** Absolute offset of bytes[0] (a zip member's data offset). */
    readonly base = 0,
  ) {
    this.start = base;
    this.end = base + bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset - this.base, offset - this.base + length);
  }
  close(): void {}
}

/** Window of a file read on demand: a 5 GB legacy checkpoint holds kilobytes of pickle. */
const WINDOW_BYTES = 1 << 20;

export class FileInput implements PickleInput {
  private readonly fd: number;
  private window = new Uint8Array(0);
  private windowAt = 0;

  constructor(
    readonly name: string,
    readonly start: number,
    readonly end: number,
    fd?: number,
    path = name,
  ) {
    try {
      this.fd = fd ?? openSync(path, 'r');
    } catch (error) {
      throw ferryError('FERRY_IO', { path, reason: (error as Error).message }, error);
    }
    this.ownsFd = fd === undefined;
  }
  private readonly ownsFd: boolean;

  read(offset: number, length: number): Uint8Array {
    if (offset >= this.windowAt && offset + length <= this.windowAt + this.window.length) {
      return this.window.subarray(offset - this.windowAt, offset - this.windowAt + length);
    }
    const size = Math.min(Math.max(length, WINDOW_BYTES), this.end - offset);
    const buffer = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = readSync(this.fd, buffer, done, size - done, offset + done);
      if (n === 0) {
        throw ferryError('FERRY_TRUNCATED', {
          path: this.name,
          what: 'read',
          offset: offset + done,
          size: this.end,
        });
      }
      done += n;
    }
    this.window = buffer;
    this.windowAt = offset;
    return buffer.subarray(0, length);
  }

  close(): void {
    if (this.ownsFd) closeSync(this.fd);
  }
}
