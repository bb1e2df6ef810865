import { readdir, stat } from 'node:fs/promises';
import {
  bufferInput,
  type Compression,
  compressionOf,
  decompress,
  decompressHead,
  MAX_DETECT_INPUT_BYTES,
} from './compression/index.js';
import { ferryError } from './errors.js';
import { FORMAT_HANDLERS } from './formats.js';
import { lfsPointer, lfsPointerReason } from './lfs-pointer.js';
import type { FormatHandler, FormatName, Probe } from './model.js';
import { FileSource } from './tensor/byte-source.js';

/** Enough for every magic number and header ferry checks (GGUF's, npy's, safetensors' length). */
export const PROBE_HEAD_BYTES = 4096;

/** Looks at a file's bytes (or a folder's entries) and names its format, never by extension alone. */
export async function detectFormat(path: string): Promise<FormatName> {
  return (await detectHandler(path)).name;
}

export async function detectHandler(path: string): Promise<FormatHandler> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw ferryError('FERRY_NOT_FOUND', { path });
    throw ferryError('FERRY_IO', { path, reason: (error as Error).message }, error);
  }
  if (info.isDirectory()) {
    const entries = await readdir(path);
    const probe: Probe = { path, isDirectory: true, size: 0, head: new Uint8Array(0), entries, source: null };
    return pick(probe, 'no format recognises this folder');
  }
  const source = await FileSource.open(path);
  try {
    const head = await source.read(0, Math.min(PROBE_HEAD_BYTES, source.size));
    const probe: Probe = { path, isDirectory: false, size: source.size, head, entries: [], source };
    const packed = compressionOf(head);
    if (packed) return await pickCompressed(probe, packed);
    const pointer = lfsPointer(head, source.size);
    const reason =
      source.size === 0
        ? 'the file is empty'
        : pointer
          ? lfsPointerReason(pointer)
          : 'no known magic bytes or structure';
    return await pick(probe, reason);
  } finally {
    await source.close();
  }
}

/**
 * A file with compression magic (joblib's _detect_compressor prefixes, or joblib's old ZF): the
 * pickle handlers claim it if its data is a pickle; otherwise the error says which compression
 * it is and why, the same error `ferry scan` reports (a corrupt stream's FERRY_COMPRESSED_*
 * code), never a bare "unknown format" or a pickle error from reading the compressed bytes.
 */
async function pickCompressed(probe: Probe, packed: Compression): Promise<FormatHandler> {
  for (const handler of FORMAT_HANDLERS) {
    if (await handler.detect(probe)) return handler;
  }
  await inflatedHeadOrError(probe, packed);
  // Worded as scan words it (pickle/container.ts).
  throw ferryError('FERRY_UNKNOWN_FORMAT', {
    path: probe.path,
    reason: `${packed.name} data that is not a pickle`,
  });
}

/** Throws what is wrong with a compressed stream's start, as decompressing it all would. */
async function inflatedHeadOrError(probe: Probe, packed: Compression): Promise<Uint8Array> {
  let head = probe.head;
  if (probe.source && head.length < probe.size && packed.decodeStream) {
    head = await probe.source.read(0, Math.min(probe.size, MAX_DETECT_INPUT_BYTES));
  }
  const inflated = decompressHead(packed, head, probe.path);
  // Nothing came out: a stream cut off before its first block. Decoding it whole names the
  // problem as scan does (FERRY_COMPRESSED_TRUNCATED) instead of calling the data empty.
  if (inflated.length === 0 && head.length === probe.size)
    await decompress(packed, bufferInput(head), probe.path);
  return inflated;
}

async function pick(probe: Probe, reason: string): Promise<FormatHandler> {
  for (const handler of FORMAT_HANDLERS) {
    if (await handler.detect(probe)) return handler;
  }
  throw ferryError('FERRY_UNKNOWN_FORMAT', { path: probe.path, reason });
}
