import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGunzip, createInflate, gunzipSync, inflateSync } from 'node:zlib';
import { ferryError, isFerryError } from '../errors.js';
import { ByteReader, bufferInput, type CompressedInput } from './byte-reader.js';
import { type Compression, COMPRESSIONS } from './compressions.js';
import { DEFAULT_LIMITS, type DecompressLimits } from './limits.js';
import { OutputBuffer, OutputFull } from './output-buffer.js';

export interface Decompressed {
  readonly bytes: Uint8Array;
  /** Bytes after the last stream that start no stream (the Python readers ignore them). */
  readonly trailing: number;
}

/** zlib chunks fed to node:zlib per write. */
const ZLIB_CHUNK = 256 * 1024;

/**
 * Inflates a whole compressed file, reading it in chunks and stopping at the first limit:
 * output past MAX_DECOMPRESSED_BYTES, or past MAX_DECOMPRESSION_RATIO once over
 * MAX_RATIO_FREE_BYTES, is FERRY_LIMIT; a corrupt stream is FERRY_COMPRESSED_*.
 */
export async function decompress(
  compression: Compression,
  input: CompressedInput,
  path: string,
  limits: DecompressLimits = DEFAULT_LIMITS,
): Promise<Decompressed> {
  if (!compression.decodeStream) return inflate(compression, input, path, limits);
  return decodeStreams(compression, input, path, limits);
}

function decodeStreams(
  compression: Compression,
  input: CompressedInput,
  path: string,
  limits: DecompressLimits,
  stopAt?: number,
): Decompressed {
  const reader = new ByteReader(input, path, compression.name);
  const out = new OutputBuffer(path, compression.name, limits, () => reader.offset, stopAt);
  let current = compression;
  for (;;) {
    current.decodeStream!(reader, out);
    if (reader.atEnd()) return { bytes: out.result(), trailing: 0 };
    const head = reader.peek(8);
    const next = COMPRESSIONS.find((c) => current.followedBy.includes(c.name) && c.matches(head));
    if (!next) return { bytes: out.result(), trailing: input.end - reader.offset };
    current = next;
  }
}

async function inflate(
  compression: Compression,
  input: CompressedInput,
  path: string,
  limits: DecompressLimits,
): Promise<Decompressed> {
  const header = compression.header?.(input.read(0, Math.min(input.end, 32)).slice(), path);
  let fed = header?.dataOffset ?? 0;
  const out = new OutputBuffer(path, compression.name, limits, () => fed);
  function* chunks() {
    while (fed < input.end) {
      const n = Math.min(ZLIB_CHUNK, input.end - fed);
      const chunk = input.read(fed, n).slice();
      fed += n;
      yield chunk;
    }
  }
  const inflater = compression.name === 'gzip' ? createGunzip() : createInflate();
  // The limit error thrown while consuming; pipeline reports it as an abort of the source.
  let limit: unknown;
  try {
    await pipeline(Readable.from(chunks()), inflater, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        try {
          out.write(chunk);
        } catch (error) {
          limit = error;
          throw error;
        }
      }
    });
  } catch (error) {
    if (limit) throw limit;
    if (isFerryError(error)) throw error;
    throw zlibError(error as NodeJS.ErrnoException, compression.name, path, fed);
  }
  const bytes = out.result();
  // read_zfile asserts the declared length ("The file could be corrupted").
  if (header && bytes.length !== header.length) {
    throw ferryError('FERRY_COMPRESSED_STREAM', {
      path,
      format: compression.name,
      offset: header.dataOffset,
      reason: `inflates to ${bytes.length} bytes, the header declares ${header.length}`,
    });
  }
  return { bytes, trailing: 0 };
}

function zlibError(error: NodeJS.ErrnoException, format: string, path: string, offset: number) {
  if (error.code === 'Z_BUF_ERROR' || /unexpected end/i.test(error.message)) {
    return ferryError(
      'FERRY_COMPRESSED_TRUNCATED',
      { path, format, offset, what: 'the end of the deflate data' },
      error,
    );
  }
  return ferryError(
    'FERRY_COMPRESSED_STREAM',
    { path, format, offset: `${offset} or before`, reason: error.message },
    error,
  );
}

/**
 * The first `want` bytes a compressed head inflates to, for format detection: a cut-off
 * stream is fine here; a stream that is wrong in its first bytes is a FerryError.
 */
export function decompressHead(
  compression: Compression,
  head: Uint8Array,
  path: string,
  want = 4096,
): Uint8Array {
  if (!compression.decodeStream) {
    if (compression.header) head = head.subarray(compression.header(head, path).dataOffset);
    const options = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 64 * 1024 * 1024 };
    try {
      const bytes = compression.name === 'gzip' ? gunzipSync(head, options) : inflateSync(head, options);
      return bytes.subarray(0, want);
    } catch (error) {
      throw zlibError(error as NodeJS.ErrnoException, compression.name, path, 0);
    }
  }
  const reader = new ByteReader(bufferInput(head), path, compression.name);
  const out = new OutputBuffer(path, compression.name, DEFAULT_LIMITS, () => reader.offset, want);
  try {
    compression.decodeStream(reader, out);
  } catch (error) {
    const cutOff = isFerryError(error) && error.code === 'FERRY_COMPRESSED_TRUNCATED';
    if (!(error instanceof OutputFull) && !cutOff) throw error;
  }
  return out.result().subarray(0, want);
}
