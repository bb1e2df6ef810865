import { relative } from 'node:path';
import { isUnsafeResult, type ScanFileResult, scanPaths } from '@ferry/formats';
import type { ScanVerdict } from '../store/types.js';

/** Files named in a verdict's detail; the scan endpoint lists them all. */
const MAX_DETAIL_FILES = 20;

/**
 * Worst first: the version's verdict is the first of these any file has. `invalid` (read whole,
 * nothing runs, but it breaks its format) is not `safe`: downloads need --force (fail closed).
 */
const ORDER = ['unsafe', 'error', 'unknown', 'invalid', 'safe'] as const;

type FileVerdict = (typeof ORDER)[number];

/** One file's share: runs code; not read to its end; no format recognised; invalid; safe. */
export function fileVerdict(result: ScanFileResult): FileVerdict {
  if (isUnsafeResult(result)) return 'unsafe';
  if (result.verdict === 'safe' || result.verdict === 'invalid') return result.verdict;
  return result.error?.code === 'FERRY_UNKNOWN_FORMAT' ? 'unknown' : 'error';
}

/**
 * The scan of a version laid out in `dir` (links into the blob store the registry made itself),
 * as `ferry scan DIR` judges it: every file, a SavedModel as a model and every file beside it.
 * The verdict is the worst file's: a version is `safe` only when every file was read and judged
 * safe.
 */
export async function versionVerdict(
  dir: string,
): Promise<{ scan: ScanVerdict; scanDetail: string | null; files: ScanFileResult[] }> {
  const files = (await scanPaths(dir, { followLinksOutside: true })).map((r) => ({
    ...r,
    path: relative(dir, r.path) || '.',
  }));
  const verdicts = files.map(fileVerdict);
  const scan = ORDER.find((v) => verdicts.includes(v)) ?? 'unknown';
  // Worst files first: the detail leads with what matters most.
  const bad = files
    .map((file, i) => ({ file, verdict: verdicts[i]! }))
    .filter(({ verdict }) => verdict !== 'safe')
    .sort((a, b) => ORDER.indexOf(a.verdict) - ORDER.indexOf(b.verdict))
    .map(({ file, verdict }) => {
      if (verdict !== 'unsafe' && verdict !== 'invalid')
        return `${file.path}: ${verdict} (${file.error?.code ?? 'not read'})`;
      const rules = new Set(
        file.findings.filter((f) => f.severity !== 'low' && f.severity !== 'info').map((f) => f.rule),
      );
      if (verdict === 'invalid') return `${file.path}: invalid: ${[...rules].join(', ')}`;
      return `${file.path}: ${[...rules].join(', ')}`;
    });
  const shown = bad.slice(0, MAX_DETAIL_FILES).join('; ');
  return {
    scan,
    scanDetail: bad.length === 0 ? null : bad.length > MAX_DETAIL_FILES ? `${shown}; ...` : shown,
    files,
  };
}
