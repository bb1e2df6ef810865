import { type FileHandle, open } from 'node:fs/promises';
import { ferryError } from '../errors.js';

/**
 * Random access to bytes: a file read by ranges, or a buffer. Readers ask for the ranges they
 * need, so inspecting a 70 GB checkpoint reads kilobytes.
 */
export interface ByteSource {
  /** What to call this source in an error message (usually the file path). */
  readonly name: string;
  readonly size: number;
  /**
   * The file these bytes are, byte for byte from its offset 0, when they are one (a plain file,
   * an external data file): lets the chunker align chunk boundaries with tensors (issue #20).
   */
  readonly file?: string;
  /** Exactly `length` bytes from `offset`; a range past the end is a FERRY_TRUNCATED error. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Optional: fills `target` with the bytes from `offset`, so a caller streaming many ranges can
   * reuse one buffer (a fresh allocation per range costs page faults that dominate page-cached
   * reads). Same range rules as `read`.
   */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

function checkRange(source: ByteSource, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw ferryError('FERRY_TRUNCATED', { path: source.name, what, offset, size: source.size });
  }
  if (offset + length > source.size) {
    throw ferryError('FERRY_TRUNCATED', { path: source.name, what, offset, size: source.size });
  }
}

export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly name = '<buffer>',
  ) {
    this.size = bytes.byteLength;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.readSync(offset, length);
  }
  /** Zero-copy view of a range. */
  readSync(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length, `range of ${length} bytes`);
    return this.bytes.subarray(offset, offset + length);
  }
  async close(): Promise<void> {}
}

export class FileSource implements ByteSource {
  get file(): string {
    return this.name;
  }

  private constructor(
    readonly name: string,
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<FileSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw ferryError('FERRY_NOT_FOUND', { path });
      throw ferryError('FERRY_IO', { path, reason: (error as Error).message }, error);
    }
    const stat = await handle.stat();
    return new FileSource(path, handle, stat.size);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    // Check before allocating: `length` may come from a hostile header.
    checkRange(this, offset, length, `range of ${length} bytes`);
    const out = Buffer.allocUnsafe(length);
    await this.readInto(offset, out);
    return out;
  }

  async readInto(offset: number, out: Uint8Array): Promise<void> {
    const length = out.length;
    checkRange(this, offset, length, `range of ${length} bytes`);
    let done = 0;
    // A positional read may return fewer bytes than asked (large ranges, signals): loop.
    while (done < length) {
      const { bytesRead } = await this.handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw ferryError('FERRY_TRUNCATED', {
          path: this.name,
          what: 'read',
          offset: offset + done,
          size: this.size,
        });
      }
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** A window onto part of another source (a zip member stored uncompressed, a tar entry). */
export class SliceSource implements ByteSource {
  constructor(
    readonly parent: ByteSource,
    readonly start: number,
    readonly size: number,
    readonly name = parent.name,
  ) {
    checkRange(parent, start, size, `slice of ${size} bytes`);
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length, `range of ${length} bytes`);
    return this.parent.read(this.start + offset, length);
  }
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    checkRange(this, offset, target.length, `range of ${target.length} bytes`);
    if (this.parent.readInto) await this.parent.readInto(this.start + offset, target);
    else target.set(await this.parent.read(this.start + offset, target.length));
  }
  async close(): Promise<void> {}
}
