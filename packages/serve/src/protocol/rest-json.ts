import { MAX_JSON_HEADER_BYTES } from '../limits.js';
import { parseJsonSliced } from './json-sliced.js';

/**
 * JSON documents from this size on are parsed in slices (json-sliced.ts): native JSON.parse of
 * 256 KiB of small numbers takes ~10 ms on a busy core, and below that the slicing costs more than
 * it saves (the benchmarks' requests are a few KiB and keep the native path).
 */
export const SLICED_JSON_MIN_BYTES = 256 * 1024;
/** Longest turn the sliced parser takes before it lets the event loop run (health probes, I/O). */
export const JSON_SLICE_MS = 8;

/**
 * True when the JSON part of a REST inference body is large enough for parseLargeJson to parse it
 * (and its header length well formed): the hot path awaits nothing for the others.
 */
export function isLargeJson(body: Buffer, headerLength: string | undefined): boolean {
  const length =
    headerLength === undefined
      ? body.byteLength
      : /^\d{1,12}$/.test(headerLength)
        ? Number(headerLength)
        : -1;
  return length >= SLICED_JSON_MIN_BYTES && length <= body.byteLength && length <= MAX_JSON_HEADER_BYTES;
}

/**
 * The JSON part of a REST inference body (all of it, or the Inference-Header-Content-Length bytes
 * before binary data) parsed off the hot path when it is large: undefined when it is small, or
 * when the header length is malformed (parseRestInfer then parses, or refuses, as usual).
 */
export async function parseLargeJson(body: Buffer, headerLength: string | undefined): Promise<unknown> {
  if (!isLargeJson(body, headerLength)) return undefined;
  const length = headerLength === undefined ? body.byteLength : Number(headerLength);
  // start on a fresh turn: requests already read (a health probe) are answered first
  await new Promise<void>((resolve) => setImmediate(resolve));
  return parseJsonSliced(body.toString('utf8', 0, length), JSON_SLICE_MS);
}
