import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { ferryError } from '../errors.js';
import { cdcCut } from './gear.js';
import { CDC_MAX_BYTES, CHUNK_READ_BYTES, MAX_CHUNKS_PER_FILE } from './limits.js';
import { planSegments, type Segment, type Span } from './plan.js';

/** One chunk of a file: where it is and the sha256 that names it. */
export interface FileChunk {
  readonly offset: number;
  readonly size: number;
  readonly sha256: string;
}

/** A file as chunks, with the whole file's sha256 (its identity) computed in the same pass. */
export interface ChunkedFile {
  readonly sha256: string;
  readonly size: number;
  readonly chunks: readonly FileChunk[];
}

/** A chunk with its bytes: a view into a reused buffer, valid only until the next chunk is asked for. */
export interface ChunkBytes extends FileChunk {
  readonly bytes: Uint8Array;
}

/**
 * Reads a file once and yields its chunks in order (tensor pieces where `tensors` says, content-
 * defined elsewhere), feeding every byte to `whole` on the way (null: the caller hashes the file
 * elsewhere, e.g. on another core). Memory: one CHUNK_READ_BYTES buffer.
 */
export async function* chunkStream(
  path: string,
  tensors: readonly Span[],
  whole: Hash | null = createHash('sha256'),
): AsyncGenerator<ChunkBytes> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    const buffer = Buffer.allocUnsafe(CHUNK_READ_BYTES);
    let count = 0;
    for (const segment of planSegments(size, tensors)) {
      const pieces =
        segment.kind === 'tensor'
          ? tensorPiece(file, segment, buffer, path)
          : content(file, segment, buffer, path);
      for await (const piece of pieces) {
        if (++count > MAX_CHUNKS_PER_FILE)
          throw ferryError('FERRY_LIMIT', {
            path,
            what: 'chunk count',
            value: count,
            limit: MAX_CHUNKS_PER_FILE,
            reason: 'MAX_CHUNKS_PER_FILE, CWE-770',
          });
        whole?.update(piece.bytes);
        yield piece;
      }
    }
  } finally {
    await file.close();
  }
}

/** Chunks a whole file; returns the chunk list (without bytes) and the file's sha256. */
export async function chunkFile(path: string, tensors: readonly Span[] = []): Promise<ChunkedFile> {
  const whole = createHash('sha256');
  const chunks: FileChunk[] = [];
  let size = 0;
  for await (const { offset, size: n, sha256 } of chunkStream(path, tensors, whole)) {
    chunks.push({ offset, size: n, sha256 });
    size += n;
  }
  return { sha256: whole.digest('hex'), size, chunks };
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function readFully(
  file: FileHandle,
  target: Buffer,
  at: number,
  length: number,
  position: number,
  path: string,
) {
  for (let done = 0; done < length; ) {
    const { bytesRead } = await file.read(target, at + done, length - done, position + done);
    if (bytesRead === 0)
      throw ferryError('FERRY_TRUNCATED', {
        path,
        what: 'chunk read',
        offset: position + done,
        size: position + length,
      });
    done += bytesRead;
  }
}

async function* tensorPiece(
  file: FileHandle,
  s: Segment,
  buffer: Buffer,
  path: string,
): AsyncGenerator<ChunkBytes> {
  const size = s.end - s.start;
  await readFully(file, buffer, 0, size, s.start, path);
  const bytes = buffer.subarray(0, size);
  yield { offset: s.start, size, sha256: sha(bytes), bytes };
}

/** Content-defined chunks of a segment; keeps CDC_MAX_BYTES (or the segment's rest) buffered for each cut. */
async function* content(
  file: FileHandle,
  s: Segment,
  buffer: Buffer,
  path: string,
): AsyncGenerator<ChunkBytes> {
  let bufferAt = s.start; // file offset of buffer[0]
  let filled = 0;
  for (let position = s.start; position < s.end; ) {
    const wanted = Math.min(CDC_MAX_BYTES, s.end - position);
    if (bufferAt + filled - position < wanted) {
      buffer.copyWithin(0, position - bufferAt, filled);
      filled -= position - bufferAt;
      bufferAt = position;
      const more = Math.min(buffer.length - filled, s.end - (bufferAt + filled));
      await readFully(file, buffer, filled, more, bufferAt + filled, path);
      filled += more;
    }
    const from = position - bufferAt;
    const cut = cdcCut(buffer, from, Math.min(filled, s.end - bufferAt));
    const bytes = buffer.subarray(from, cut);
    yield { offset: position, size: cut - from, sha256: sha(bytes), bytes };
    position = bufferAt + cut;
  }
}
