import { isFerryError } from '../errors.js';
import type { FormatHandler, OpenedModel, Probe } from '../model.js';
import { type ByteSource, FileSource } from '../tensor/byte-source.js';
import type { TensorRef } from '../tensor/tensor-ref.js';
import {
  checkHeaderLength,
  HEADER_LENGTH_BYTES,
  MAX_HEADER_SIZE,
  parseHeader,
  type SafetensorsHeader,
} from './header.js';

/**
 * Reads and validates a safetensors header from any byte source (a file, a zip member):
 * 8 + header-length bytes are read, never the tensor data.
 */
export async function readSafetensorsHeader(
  source: ByteSource,
  path = source.name,
): Promise<SafetensorsHeader> {
  const prefix = await source.read(0, Math.min(HEADER_LENGTH_BYTES, source.size));
  const length = checkHeaderLength(path, prefix, source.size);
  const header = await source.read(HEADER_LENGTH_BYTES, length);
  return parseHeader(path, header, source.size);
}

/** TensorRefs over the source: each one reads only its own byte range. */
export function safetensorsRefs(header: SafetensorsHeader, source: ByteSource): TensorRef[] {
  return header.tensors.map((t) => ({
    name: t.name,
    dtype: t.dtype,
    shape: t.shape,
    source,
    offset: header.dataStart + t.begin,
    byteLength: t.end - t.begin,
  }));
}

export async function openSafetensors(path: string): Promise<OpenedModel> {
  const source = await FileSource.open(path);
  try {
    const header = await readSafetensorsHeader(source, path);
    return {
      format: 'safetensors',
      path,
      tensors: safetensorsRefs(header, source),
      metadata: header.metadata,
      details: { headerBytes: header.headerLength },
      close: () => source.close(),
    };
  } catch (error) {
    await source.close();
    throw error;
  }
}

/** The result of `validateSafetensors`: a file either passes every rule or names the first it breaks. */
export type SafetensorsValidation =
  | { readonly valid: true; readonly path: string; readonly header: SafetensorsHeader }
  | { readonly valid: false; readonly path: string; readonly code: string; readonly message: string };

/** Checks a file against every rule of the reference reader; bad files are answers, not throws. */
export async function validateSafetensors(path: string): Promise<SafetensorsValidation> {
  let source: FileSource | undefined;
  try {
    source = await FileSource.open(path);
    return { valid: true, path, header: await readSafetensorsHeader(source, path) };
  } catch (error) {
    if (isFerryError(error) && error.permanent) {
      return { valid: false, path, code: error.code, message: error.message };
    }
    throw error;
  } finally {
    await source?.close();
  }
}

/**
 * A plausible length prefix (at most MAX_HEADER_SIZE, so bytes 4-7 are zero: no other format's
 * magic looks like that) followed by '{' at byte 8. A length past the end of the file is still
 * claimed, so a truncated file gets the precise FERRY_SAFETENSORS_HEADER_LENGTH error.
 */
export function looksLikeSafetensors(probe: Probe): boolean {
  if (
    probe.isDirectory ||
    probe.size < HEADER_LENGTH_BYTES + 2 ||
    probe.head.length < HEADER_LENGTH_BYTES + 1
  ) {
    return false;
  }
  const view = new DataView(probe.head.buffer, probe.head.byteOffset, HEADER_LENGTH_BYTES);
  const length = view.getBigUint64(0, true);
  return length >= 2n && length <= BigInt(MAX_HEADER_SIZE) && probe.head[HEADER_LENGTH_BYTES] === 0x7b;
}

export const safetensorsHandler: FormatHandler = {
  name: 'safetensors',
  detect: looksLikeSafetensors,
  open: (path) => openSafetensors(path),
};
