import { FerryError, ferryError } from '../errors.js';

/** U+FFFD REPLACEMENT CHARACTER in UTF-8: what a text decoder writes for every byte it cannot decode. */
const REPLACEMENT = [0xef, 0xbf, 0xbd] as const;

/** Where `bytes` holds EF BF BD starting within its first `width` bytes, or -1. */
export function replacementCharAt(bytes: Uint8Array, width: number): number {
  for (let i = 0; i < width && i + 2 < bytes.length; i++) {
    if (bytes[i] === REPLACEMENT[0] && bytes[i + 1] === REPLACEMENT[1] && bytes[i + 2] === REPLACEMENT[2])
      return i;
  }
  return -1;
}

/** The first numeric metadata value whose bytes hold U+FFFD: evidence of a text round trip. */
export interface MangledValue {
  readonly what: string;
  readonly offset: number;
}

/**
 * A binary file decoded as UTF-8 text and written back (a tool, upload form or editor that treats
 * it as text; issue #18: copies of llama.cpp's models/ggml-vocab-*.gguf in other repositories)
 * has every byte that is not valid UTF-8 replaced by EF BF BD. The first such byte is usually
 * inside a number (1e-5 = AC C5 27 37 becomes EF BF BD EF BF BD 27 37), so every offset after it
 * shifts and the next length reads as gigabytes. The loss cannot be undone, so when the header
 * breaks after such a value the error says what happened instead of quoting the garbage length.
 * llama.cpp's gguf_init_from_file fails on the same files (bad_alloc reading the next key).
 */
export function explainMangled(error: unknown, mangled: MangledValue | undefined, path: string): unknown {
  if (mangled === undefined || !(error instanceof FerryError)) return error;
  return ferryError('FERRY_GGUF_TEXT_MANGLED', {
    path,
    what: mangled.what,
    offset: mangled.offset,
    cause: error.message.startsWith(`${path}: `) ? error.message.slice(path.length + 2) : error.message,
  });
}
