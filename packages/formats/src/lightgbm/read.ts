import { readFile, stat } from 'node:fs/promises';
import { ferryError } from '../errors.js';
import { MAX_LIGHTGBM_MODEL_BYTES } from './limits.js';
import { type LgbmModel, parseLightgbmModel } from './model.js';

/** save_model's file starts with SubModelName() ("tree") on its own line; num_class= follows in the header. */
export function looksLikeLightgbm(head: Uint8Array): boolean {
  const text = new TextDecoder('latin1').decode(head.subarray(0, 4096));
  return /^tree\r?\n/.test(text) && /\nnum_class=\d/.test(text);
}

/** Reads and parses a LightGBM text model file (model.txt from Booster.save_model). */
export async function readLightgbmFile(path: string): Promise<LgbmModel> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw ferryError('FERRY_NOT_FOUND', { path });
    throw ferryError('FERRY_IO', { path, reason: error.message }, error);
  });
  if (info.size > MAX_LIGHTGBM_MODEL_BYTES)
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'LightGBM model size',
      value: info.size,
      limit: MAX_LIGHTGBM_MODEL_BYTES,
      reason: 'read whole, CWE-789',
    });
  const bytes = await readFile(path);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw ferryError('FERRY_LIGHTGBM_MODEL', { path, what: 'text', reason: 'is not UTF-8' });
  }
  return parseLightgbmModel(text, path);
}
