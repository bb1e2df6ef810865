import { compressionOf, decompressHead, MAX_DETECT_INPUT_BYTES } from '../compression/index.js';
import { isFerryError } from '../errors.js';
import type { Probe } from '../model.js';

const cache = new WeakMap<Probe, Promise<Uint8Array | undefined>>();

/**
 * The first 4 KiB a compressed file (joblib's six compressions) inflates to, for detection;
 * undefined when the file does not start like one or its first bytes are corrupt. A bz2 block
 * yields nothing until it is whole, so up to MAX_DETECT_INPUT_BYTES are read.
 */
export function inflatedHead(probe: Probe): Promise<Uint8Array | undefined> {
  let result = cache.get(probe);
  if (!result) {
    result = inflate(probe);
    cache.set(probe, result);
  }
  return result;
}

async function inflate(probe: Probe): Promise<Uint8Array | undefined> {
  const compression = probe.isDirectory ? undefined : compressionOf(probe.head);
  if (!compression) return undefined;
  let head = probe.head;
  if (probe.source && head.length < probe.size && compression.decodeStream) {
    head = await probe.source.read(0, Math.min(probe.size, MAX_DETECT_INPUT_BYTES));
  }
  try {
    return decompressHead(compression, head, probe.path);
  } catch (error) {
    if (isFerryError(error)) return undefined;
    throw error;
  }
}
