import { finding } from '../finding-kinds.js';
import type { Finding } from '../model.js';
import type { ZipEntry } from './loader-readings.js';
import type { ZipArchive } from './zip-reader.js';

/** Differences listed in one finding's message; the count says how many more. */
const SHOWN_DIFFERENCES = 8;

const LOADER_NAMES = { miniz: "torch's miniz", zipfile: "CPython's zipfile (numpy)" } as const;

function sameEntry(a: ZipEntry, b: ZipEntry): boolean {
  return (
    a.localHeaderOffset === b.localHeaderOffset &&
    a.compressedSize === b.compressedSize &&
    a.size === b.size &&
    a.method === b.method
  );
}

/** Where two loaders' readings of one archive disagree, as sentences; empty when they agree. */
export function readingDifferences(zip: ZipArchive): string[] {
  const [a, b] = zip.readings;
  if (!a || !b) return [];
  const out: string[] = [];
  const [na, nb] = [LOADER_NAMES[a.loader], LOADER_NAMES[b.loader]];
  if (a.location.cdStart !== b.location.cdStart) {
    out.push(
      `${na} reads the central directory at byte ${a.location.cdStart}, ${nb} at byte ${b.location.cdStart}`,
    );
  }
  // CPython keeps the last entry of a name (NameToInfo); compare by name, last wins.
  const byName = (entries: readonly ZipEntry[]) => new Map(entries.map((e) => [e.name, e]));
  const [ma, mb] = [byName(a.entries), byName(b.entries)];
  for (const [name, entry] of ma) {
    const other = mb.get(name);
    if (!other) out.push(`${name} is a member only for ${na}`);
    else if (!sameEntry(entry, other)) out.push(`${name} is different data for ${na} and ${nb}`);
  }
  for (const name of mb.keys()) if (!ma.has(name)) out.push(`${name} is a member only for ${nb}`);
  return out;
}

/** Every member any loader sees, each distinct (name, data) once: what a scan must read. */
export function everyEntry(zip: ZipArchive): ZipEntry[] {
  const out = [...zip.entries];
  for (const reading of zip.readings) {
    for (const entry of reading.entries) {
      if (!out.some((seen) => seen.name === entry.name && sameEntry(seen, entry))) out.push(entry);
    }
  }
  return out;
}

/**
 * Findings about the archive's structure that make loaders disagree on its contents
 * (docs/security.md, "How zips are read"): readings that differ (high), duplicate names (miniz
 * looks names up case-insensitively, CPython keeps the last), members whose bytes overlap (the
 * overlapping-entry zip bomb, and one byte range read as two files).
 */
export function archiveFindings(zip: ZipArchive, where: string): Finding[] {
  const findings: Finding[] = [];
  const differences = readingDifferences(zip);
  if (differences.length > 0) {
    const more = differences.length - SHOWN_DIFFERENCES;
    findings.push(
      finding(
        'zip-differential',
        `zip loaders read different archives: ${differences.slice(0, SHOWN_DIFFERENCES).join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
        where,
      ),
    );
  }
  const entries = everyEntry(zip);
  const names = new Map<string, string>();
  for (const reading of zip.readings) {
    const seen = new Map<string, string>();
    for (const entry of reading.entries) {
      const key = entry.name.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined && !names.has(key)) {
        names.set(key, first === entry.name ? entry.name : `${first} and ${entry.name}`);
      }
      seen.set(key, entry.name);
    }
  }
  for (const name of names.values()) {
    findings.push(
      finding(
        'zip-duplicate-name',
        `two members are named ${name} (torch's miniz matches names ignoring case, CPython keeps the last): readers disagree on which one counts`,
        where,
      ),
    );
  }
  // 30: a local header's fixed part; the ranges are lower bounds, so any overlap found is real.
  const ranges = entries
    .map((e) => ({
      name: e.name,
      start: e.localHeaderOffset,
      end: e.localHeaderOffset + 30 + e.compressedSize,
    }))
    .sort((x, y) => x.start - y.start || x.end - y.end);
  for (let i = 1; i < ranges.length; i++) {
    const [prev, next] = [ranges[i - 1]!, ranges[i]!];
    if (
      next.start < prev.end &&
      !(next.start === prev.start && next.end === prev.end && next.name === prev.name)
    ) {
      findings.push(
        finding(
          'zip-overlap',
          `members ${prev.name} and ${next.name} share bytes (overlapping entries: one range read as two files, the zip-bomb construction)`,
          where,
        ),
      );
      break;
    }
  }
  return findings;
}
