import { ferryError } from '../errors.js';
import type { DecompressLimits } from './limits.js';

/** Thrown when a detection decode has all the output it wanted; never escapes the driver. */
export class OutputFull extends Error {}

/**
 * A decoder's output, grown on demand under the bomb limits: LZMA and LZ4 matches copy from
 * it directly (it is the whole dictionary), and the pickle machine reads it afterwards. Every
 * growth is checked against the total and the ratio to the compressed bytes read so far, so a
 * bomb is refused before it costs more than twice the point where it was caught (CWE-409).
 */
export class OutputBuffer {
  buf: Uint8Array;
  pos = 0;

  constructor(
    private readonly path: string,
    private readonly format: string,
    private readonly limits: DecompressLimits,
    /** Compressed bytes consumed so far, for the ratio. */
    private readonly consumed: () => number,
    /** Detection: stop (OutputFull) once this many bytes exist. */
    private readonly stopAt = Number.POSITIVE_INFINITY,
    initial = 64 * 1024,
  ) {
    this.buf = new Uint8Array(Math.min(initial, limits.maxBytes, stopAt));
  }

  /** Room for `n` more bytes at `pos`. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(this.pos + n);
  }

  /** Stops a detection decode once enough output is there (called between blocks/symbols). */
  enough(): boolean {
    return this.pos >= this.stopAt;
  }

  private grow(need: number): void {
    if (this.pos >= this.stopAt) throw new OutputFull();
    const { maxBytes, maxRatio, ratioFreeBytes } = this.limits;
    if (need > maxBytes) {
      throw ferryError('FERRY_LIMIT', {
        path: this.path,
        what: `${this.format} output`,
        value: `at least ${need} bytes`,
        limit: `${maxBytes} bytes, MAX_DECOMPRESSED_BYTES`,
        reason: 'a decompression bomb, CWE-409',
      });
    }
    const input = Math.max(1, this.consumed());
    if (need > ratioFreeBytes && need > maxRatio * input) {
      throw ferryError('FERRY_LIMIT', {
        path: this.path,
        what: `${this.format} output`,
        value: `at least ${need} bytes from ${input} compressed bytes (${Math.floor(need / input)}:1)`,
        limit: `${maxRatio}:1 once past ${ratioFreeBytes} bytes, MAX_DECOMPRESSION_RATIO`,
        reason: 'a decompression bomb, CWE-409',
      });
    }
    const size = Math.min(Math.max(need, this.buf.length * 2), maxBytes, Math.max(need, this.stopAt));
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Appends bytes (a stored block, a decoded chunk from node:zlib). */
  write(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** The output so far, without a copy. */
  result(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
