import type { ByteRange } from './blob-store.js';
import type { StoredManifest } from './chunk-store.js';

/** One read that serves part of a file: a range of a pack, or of a chunk stored as its own blob. */
export type Segment =
  | { readonly pack: string; readonly range: ByteRange }
  | {
      readonly pack?: undefined;
      readonly sha256: string;
      readonly range: ByteRange;
      readonly whole: boolean;
    };

/**
 * The reads that give bytes `range` (inclusive) of a file, in order: the file's own pack as one
 * range when it has one, else its chunks, with chunks that lie back to back in one pack merged
 * into one read (a file pushed in packs reads as a few ranges, not one open per chunk).
 */
export function* manifestSegments(manifest: StoredManifest, range: ByteRange): Generator<Segment> {
  if (range.end < range.start) return; // an empty file
  if (manifest.pack !== undefined) {
    yield { pack: manifest.pack, range };
    return;
  }
  let run: { pack: string; start: number; end: number } | undefined;
  for (const c of manifest.chunks) {
    const end = c.offset + c.size - 1;
    if (end < range.start || c.size === 0) continue;
    if (c.offset > range.end) break;
    const from = Math.max(range.start, c.offset) - c.offset;
    const to = Math.min(range.end, end) - c.offset;
    if (c.pack !== undefined && c.packOffset !== undefined) {
      const start = c.packOffset + from;
      if (run?.pack === c.pack && run.end + 1 === start) run.end = c.packOffset + to;
      else {
        if (run) yield { pack: run.pack, range: { start: run.start, end: run.end } };
        run = { pack: c.pack, start, end: c.packOffset + to };
      }
      continue;
    }
    if (run) yield { pack: run.pack, range: { start: run.start, end: run.end } };
    run = undefined;
    yield { sha256: c.sha256, range: { start: from, end: to }, whole: from === 0 && to === c.size - 1 };
  }
  if (run) yield { pack: run.pack, range: { start: run.start, end: run.end } };
}
