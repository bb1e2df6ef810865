import { readdir, stat } from 'node:fs/promises';
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

async function pick(probe: Probe, reason: string): Promise<FormatHandler> {
  for (const handler of FORMAT_HANDLERS) {
    if (await handler.detect(probe)) return handler;
  }
  throw ferryError('FERRY_UNKNOWN_FORMAT', { path: probe.path, reason });
}
