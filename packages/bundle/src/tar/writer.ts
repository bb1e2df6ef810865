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
  private readonly buffer = Buffer.allocUnsafe(COPY_CHUNK);
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
    try {
      let done = 0;
      while (done < size) {
        const { bytesRead } = await input.read(this.buffer, 0, Math.min(COPY_CHUNK, size - done), done);
        if (bytesRead === 0)
          throw bundleError('FERRY_BUNDLE_IO', {
            path: source,
            reason: `shrank while being packed (${size} bytes when listed, ${done} read)`,
          });
        const chunk = this.buffer.subarray(0, bytesRead);
        hash.update(chunk);
        await writeAll(this.file, chunk);
        done += bytesRead;
      }
    } finally {
      await input.close();
    }
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

async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}
