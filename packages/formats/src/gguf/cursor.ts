import { ferryError } from '../errors.js';
import type { ByteSource } from '../tensor/byte-source.js';
import { READ_CHUNK_BYTES } from './limits.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A forward cursor over a GGUF header read in ranged chunks: only the window being parsed is in
 * memory, so a header with a 256k-token vocabulary never pulls the tensor data in. Getters are
 * synchronous once `need` has made their bytes available; every read names its byte order.
 */
export class GgufCursor {
  pos = 0;
  littleEndian = true;
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private view: DataView = new DataView(new ArrayBuffer(0));
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  private readonly lenient = new TextDecoder('utf-8');

  constructor(readonly source: ByteSource) {}

  get remaining(): number {
    return this.source.size - this.pos;
  }

  /** Makes `n` bytes from `pos` readable; FERRY_TRUNCATED when the file is shorter. */
  async need(n: number, what: string): Promise<void> {
    if (this.pos + n <= this.bufStart + this.buf.length) return;
    this.checkRoom(n, what);
    const length = Math.min(Math.max(n, READ_CHUNK_BYTES), this.source.size - this.pos);
    this.buf = await this.source.read(this.pos, length);
    this.bufStart = this.pos;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** True when `n` bytes are already buffered (lets loops skip an await). */
  has(n: number): boolean {
    return this.pos + n <= this.bufStart + this.buf.length;
  }

  checkRoom(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.source.size) {
      throw ferryError('FERRY_TRUNCATED', {
        path: this.source.name,
        what,
        offset: this.pos,
        size: this.source.size,
      });
    }
  }

  /** Moves past `n` bytes without reading them (they are only checked to exist). */
  skip(n: number, what: string): void {
    this.checkRoom(n, what);
    this.pos += n;
  }

  private at(width: number): number {
    const at = this.pos - this.bufStart;
    this.pos += width;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.at(1));
  }
  i8(): number {
    return this.view.getInt8(this.at(1));
  }
  u16(): number {
    return this.view.getUint16(this.at(2), this.littleEndian);
  }
  i16(): number {
    return this.view.getInt16(this.at(2), this.littleEndian);
  }
  u32(): number {
    return this.view.getUint32(this.at(4), this.littleEndian);
  }
  i32(): number {
    return this.view.getInt32(this.at(4), this.littleEndian);
  }
  f32(): number {
    return this.view.getFloat32(this.at(4), this.littleEndian);
  }
  f64(): number {
    return this.view.getFloat64(this.at(8), this.littleEndian);
  }
  u64(): bigint {
    return this.view.getBigUint64(this.at(8), this.littleEndian);
  }
  i64(): bigint {
    return this.view.getBigInt64(this.at(8), this.littleEndian);
  }

  /** Up to `n` already-buffered bytes from `pos`, without moving (for diagnostics only). */
  peek(n: number): Uint8Array {
    const start = this.pos - this.bufStart;
    return this.buf.subarray(start, start + n);
  }

  /** A u64 that must fit a JS number (a count, length or offset). */
  u64Number(what: string): number {
    const start = this.pos;
    const value = this.u64();
    if (value > MAX_SAFE) {
      throw ferryError('FERRY_GGUF_STRUCTURE', {
        path: this.source.name,
        what,
        offset: start,
        reason: `value ${value} is larger than 2^53`,
      });
    }
    return Number(value);
  }

  /** `n` bytes as UTF-8 text; strict (keys, tensor names) rejects invalid UTF-8. */
  text(n: number, strict: boolean, what: string): string {
    const start = this.at(n);
    const bytes = this.buf.subarray(start, start + n);
    if (!strict) return this.lenient.decode(bytes);
    try {
      return this.utf8.decode(bytes);
    } catch {
      throw ferryError('FERRY_GGUF_STRUCTURE', {
        path: this.source.name,
        what,
        offset: this.pos - n,
        reason: 'not valid UTF-8',
      });
    }
  }
}
