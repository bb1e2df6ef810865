import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { bundleError } from '../errors.js';
import {
  BLOCK,
  encodeHeader,
  fitsUstarName,
  padding,
  paxRecord,
  TYPE_FILE,
  TYPE_PAX,
  USTAR_MAX_SIZE,
  USTAR_NAME_BYTES,
} from './header.js';

/** Copy buffer: large enough that a 1 GB bundle is a few hundred reads per file. */
const COPY_CHUNK = 4 * 1024 * 1024;

export interface WrittenEntry {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly mode: number;
}

/**
 * Writes a tar archive sequentially to an open file. Regular files only, with modes 0644 or
 * 0755 and every host detail fixed (see encodeHeader), so the output depends only on the paths,
 * the executable bits and the bytes.
 */
export class TarWriter {
  private readonly file: FileHandle;
  private readonly buffers = [0, 1, 2].map(() => Buffer.allocUnsafe(COPY_CHUNK));
  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(file: FileHandle) {
    this.file = file;
  }

  /** Adds an entry from memory. */
  async addBytes(path: string, executable: boolean, data: Uint8Array): Promise<WrittenEntry> {
    const mode = executable ? 0o755 : 0o644;
    await this.header(path, mode, data.length);
    await this.push(data);
    await this.push(new Uint8Array(padding(data.length)));
    return { path, size: data.length, sha256: createHash('sha256').update(data).digest('hex'), mode };
  }

  /** Adds an entry streamed from a file of the given size; the file must not change meanwhile. */
  async addFile(path: string, executable: boolean, source: string, size: number): Promise<WrittenEntry> {
    const mode = executable ? 0o755 : 0o644;
    await this.header(path, mode, size);
    await this.flush();
    const hash = createHash('sha256');
    const input = await open(source, 'r');
    // Three buffers in a ring: while chunk i is hashed, chunk i+1 is being read and chunk i-1
    // written (both on libuv's thread pool), so the copy runs at the speed of its slowest part.
    const reads: Promise<number>[] = [];
    const writes: Promise<void>[] = [];
    const chunks = Math.ceil(size / COPY_CHUNK);
    const startRead = (i: number) => {
      const length = Math.min(COPY_CHUNK, size - i * COPY_CHUNK);
      reads[i] = readFull(input, this.buffers[i % 3]!, length, i * COPY_CHUNK);
    };
    try {
      if (chunks > 0) startRead(0);
      for (let i = 0; i < chunks; i++) {
        const length = Math.min(COPY_CHUNK, size - i * COPY_CHUNK);
        const got = await reads[i]!;
        if (got !== length)
          throw bundleError('FERRY_BUNDLE_IO', {
            path: source,
            reason: `shrank while being packed (${size} bytes when listed, ${i * COPY_CHUNK + got} read)`,
          });
        // Buffer (i+1)%3 held chunk i-2, whose write finished before write i-1 started (below).
        if (i + 1 < chunks) startRead(i + 1);
        const chunk = this.buffers[i % 3]!.subarray(0, length);
        hash.update(chunk);
        // Writes go strictly in order (they share the file position): i starts when i-1 is done.
        if (i >= 1) await writes[i - 1];
        writes[i] = writeAll(this.file, chunk);
      }
      await Promise.all(writes);
    } finally {
      await Promise.allSettled([...reads, ...writes]);
      await input.close();
    }
    await this.push(new Uint8Array(padding(size)));
    return { path, size, sha256: hash.digest('hex'), mode };
  }

  /**
   * Adds an entry whose bytes arrive as a stream (a blob being downloaded), hashing them on the
   * way; a stream that is longer or shorter than `size` throws (the archive is then abandoned).
   */
  async addStream(
    path: string,
    executable: boolean,
    size: number,
    data: AsyncIterable<Uint8Array>,
    onBytes?: (n: number) => void,
  ): Promise<WrittenEntry> {
    const mode = executable ? 0o755 : 0o644;
    await this.header(path, mode, size);
    await this.flush();
    const hash = createHash('sha256');
    let done = 0;
    // Chunks arrive small (a socket's 64 KiB); they are gathered into COPY_CHUNK batches and each
    // batch is written while the next one arrives (one write in flight, in order).
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    let writing: Promise<void> = Promise.resolve();
    const write = async () => {
      const bytes = Buffer.concat(batch, batchBytes);
      batch = [];
      batchBytes = 0;
      await writing;
      writing = writeAll(this.file, bytes);
      // marked handled now (a failure surfaces at the next await of `writing`), so a write that
      // fails while the next chunk is awaited is not an unhandled rejection
      writing.catch(() => undefined);
    };
    try {
      for await (const chunk of data) {
        done += chunk.byteLength;
        if (done > size) break;
        hash.update(chunk);
        batch.push(chunk);
        batchBytes += chunk.byteLength;
        if (batchBytes >= COPY_CHUNK) await write();
        onBytes?.(chunk.byteLength);
      }
      if (batchBytes > 0) await write();
    } finally {
      await writing;
    }
    if (done !== size)
      throw bundleError('FERRY_BUNDLE_IO', {
        path,
        reason: `the stream held ${done > size ? 'more than' : 'only'} ${done} bytes, ${size} expected`,
      });
    await this.push(new Uint8Array(padding(size)));
    return { path, size, sha256: hash.digest('hex'), mode };
  }

  /** Two zero blocks end the archive (POSIX ustar). */
  async finish(): Promise<void> {
    await this.push(new Uint8Array(2 * BLOCK));
    await this.flush();
  }

  private async header(path: string, mode: number, size: number): Promise<void> {
    const records: string[] = [];
    if (!fitsUstarName(path)) records.push(paxRecord('path', path));
    if (size > USTAR_MAX_SIZE) records.push(paxRecord('size', String(size)));
    if (records.length > 0) {
      const body = Buffer.from(records.join(''), 'utf8');
      await this.push(encodeHeader({ name: 'PaxHeader', mode: 0o644, size: body.length, type: TYPE_PAX }));
      await this.push(body);
      await this.push(new Uint8Array(padding(body.length)));
    }
    // The ustar name of a pax-named entry is a truncated ASCII stand-in for readers without pax.
    const name = fitsUstarName(path) ? path : asciiStandIn(path);
    await this.push(encodeHeader({ name, mode, size, type: TYPE_FILE }));
  }

  private async push(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= COPY_CHUNK) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    await writeAll(this.file, Buffer.concat(this.pending, this.pendingBytes));
    this.pending.length = 0;
    this.pendingBytes = 0;
  }
}

function asciiStandIn(path: string): string {
  return path.replace(/[^\x20-\x7e]/g, '_').slice(-USTAR_NAME_BYTES);
}

/** Reads up to `length` bytes at `position`, looping over short reads; returns the count (less at EOF). */
async function readFull(file: FileHandle, buffer: Buffer, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}
