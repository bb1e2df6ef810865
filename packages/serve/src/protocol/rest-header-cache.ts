import type { ServedVersion } from '../repository/served-version.js';
import { parseRestJson, type RestInferRequest, restInferRequest, splitRestBody } from './rest-infer.js';

/** Distinct JSON headers remembered per served version; the oldest is forgotten first. */
export const HEADER_CACHE_ENTRIES = 64;
/** Longer JSON headers are parsed every time (a binary request's header is ~150 bytes). */
export const HEADER_CACHE_MAX_BYTES = 1024;

/**
 * A binary REST request's JSON header (Inference-Header-Content-Length bytes before the binary
 * data) parsed and checked once per distinct header: clients send byte-identical headers request
 * after request (same inputs, shapes, outputs, parameters), and JSON.parse plus the checks of
 * those ~150 bytes were the largest part of the event loop's own parsing on the mid benchmark
 * MLP. The key is the exact header bytes, per served version (a reloaded model starts empty), so
 * any change (an id, a parameter, a shape, one space) is a different entry; only headers that
 * parsed and passed the checks are kept, so every refusal is made afresh, as before. What the
 * binary data says (its size, its values) is read from each request's own bytes. Bounded:
 * HEADER_CACHE_ENTRIES headers of at most HEADER_CACHE_MAX_BYTES each, per served version.
 */
const caches = new WeakMap<ServedVersion, Map<string, ReturnType<typeof parseRestJson>>>();

/** parseRestInfer for a body with binary data, through the cache; the same result and errors. */
export function parseRestInferCached(
  body: Buffer,
  headerLength: string,
  served: ServedVersion,
): RestInferRequest {
  const { json, tail } = splitRestBody(body, headerLength);
  if (json.byteLength > HEADER_CACHE_MAX_BYTES)
    return restInferRequest(parseRestJson(json, served), tail, served);
  let cache = caches.get(served);
  if (!cache) {
    cache = new Map();
    caches.set(served, cache);
  }
  // latin1: one character per byte, so equal keys are equal bytes
  const key = (json as Buffer).toString('latin1');
  let header = cache.get(key);
  if (!header) {
    header = parseRestJson(json, served); // throws as parseRestInfer does; nothing is kept then
    if (cache.size >= HEADER_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, header);
  }
  return restInferRequest(header, tail, served);
}

/** Headers remembered for `served` (tests check the bound). */
export function cachedHeaderCount(served: ServedVersion): number {
  return caches.get(served)?.size ?? 0;
}
