import { createInflateRaw } from 'node:zlib';
import { ferryError, isFerryError } from '../errors.js';
import type { InflateBudget } from './inflate-budget.js';
import { INFLATE_CHUNK_BYTES, MAX_INFLATE_RATIO, MAX_INFLATE_RATIO_GRACE_BYTES } from './limits.js';
import { memberDataOffset, type ZipArchive, type ZipEntry } from './zip-reader.js';

/** The most a member compressed to `compressedSize` bytes may inflate to (MAX_INFLATE_RATIO). */
export function inflateAllowance(compressedSize: number): number {
  return Math.max(MAX_INFLATE_RATIO_GRACE_BYTES, compressedSize * MAX_INFLATE_RATIO);
}

function ratioError(zip: ZipArchive, entry: ZipEntry, value: number) {
  return ferryError('FERRY_LIMIT', {
    path: `${zip.source.name}:${entry.name}`,
    what: `inflated size (${entry.compressedSize} bytes compressed)`,
    value,
    limit: inflateAllowance(entry.compressedSize),
    reason: `MAX_INFLATE_RATIO ${MAX_INFLATE_RATIO}:1, CWE-409`,
  });
}

/** Refuses, from the directory alone, a deflated member whose declared size is over MAX_INFLATE_RATIO. */
export function checkInflatedSize(zip: ZipArchive, entry: ZipEntry): void {
  if (entry.size > inflateAllowance(entry.compressedSize)) throw ratioError(zip, entry, entry.size);
}

/**
 * Bytes [offset, offset + length) of a deflated member, inflated as a stream: compressed bytes
 * are read INFLATE_CHUNK_BYTES at a time, output before `offset` is dropped and inflation stops
 * at `offset + length`, so memory is `length` plus a chunk whatever the member claims. The one
 * inflater for every zip member ferry reads (scan, inspect, npz, pytorch, registry commit).
 *
 * Refused with FERRY_LIMIT, before inflating anything where the declared size already tells:
 * more than MAX_INFLATE_RATIO times the compressed size, or more than the shared budget has left
 * (CWE-409). A member that inflates to fewer bytes than asked for is FERRY_TRUNCATED; one that
 * is not deflate data is FERRY_ZIP_STRUCTURE.
 */
export async function inflateRange(
  zip: ZipArchive,
  entry: ZipEntry,
  offset: number,
  length: number,
  budget?: InflateBudget,
): Promise<Uint8Array> {
  const name = `${zip.source.name}:${entry.name}`;
  const end = offset + length;
  const allowed = inflateAllowance(entry.compressedSize);
  const overRatio = (value: number) => ratioError(zip, entry, value);
  if (end > allowed) throw overRatio(end);
  budget?.check(end, name);
  const start = await memberDataOffset(zip, entry);
  const out = new Uint8Array(length);
  if (length === 0) return out;
  const inflater = createInflateRaw({ chunkSize: INFLATE_CHUNK_BYTES });
  let produced = 0;
  let settled = false;
  let resolveDone!: () => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // A promise nobody awaits yet must not count as unhandled when it rejects early.
  done.catch(() => {});
  const settle = (error?: unknown) => {
    if (settled) return;
    settled = true;
    inflater.destroy();
    if (error === undefined) resolveDone();
    else rejectDone(error);
  };
  inflater.on('data', (chunk: Buffer) => {
    if (settled) return;
    const from = produced;
    produced += chunk.length;
    try {
      budget?.charge(chunk.length, name);
    } catch (error) {
      settle(error);
      return;
    }
    if (produced > allowed) {
      settle(overRatio(produced));
      return;
    }
    const lo = Math.max(from, offset);
    const hi = Math.min(produced, end);
    if (hi > lo) out.set(chunk.subarray(lo - from, hi - from), lo - offset);
    if (produced >= end) settle();
  });
  inflater.on('end', () => settle());
  inflater.on('error', (error) =>
    settle(
      ferryError(
        'FERRY_ZIP_STRUCTURE',
        { path: zip.source.name, what: `member ${entry.name}`, reason: `cannot inflate: ${error.message}` },
        error,
      ),
    ),
  );
  try {
    for (let at = 0; at < entry.compressedSize && !settled; at += INFLATE_CHUNK_BYTES) {
      const piece = await zip.source.read(
        start + at,
        Math.min(INFLATE_CHUNK_BYTES, entry.compressedSize - at),
      );
      if (settled) break;
      if (!inflater.write(piece)) {
        // Backpressure: wait until zlib has handed its output to 'data' (or stopped).
        await Promise.race([new Promise((resolve) => inflater.once('drain', resolve)), done.catch(() => {})]);
      }
    }
    if (!settled) inflater.end();
  } catch (error) {
    settle(error);
    if (!isFerryError(error)) throw error;
  }
  await done;
  if (produced < end) {
    throw ferryError('FERRY_TRUNCATED', {
      path: zip.source.name,
      what: `inflated data of member ${entry.name}`,
      offset: end,
      size: produced,
    });
  }
  return out;
}
