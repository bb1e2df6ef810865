import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { detectHandler } from './detect.js';
import { type FerryError, ferryError, isFerryError } from './errors.js';
import { MAX_SCAN_DEPTH, MAX_SCAN_FILES } from './limits.js';
import { SEVERITY_ORDER } from './pickle/policy.js';
import { isTar, scanLegacyTorchTar } from './pytorch/legacy-tar.js';
import { type ScanFileResult, scanPath } from './scan.js';
import { judgeDataFile } from './scan-data.js';
import { FileSource } from './tensor/byte-source.js';
import { isUnsafe, VERDICT_ORDER, type Verdict, verdictOf } from './verdict.js';

export interface ScanFolderOptions {
  /**
   * Follow links whose target is outside the folder. Only for a folder whose links the caller
   * made itself (the registry lays a version out as links into its blob store); a user's folder
   * never gets this, so a link cannot pull /etc or another model into the verdict.
   */
  readonly followLinksOutside?: boolean;
}

/**
 * The files of a SavedModel folder its reader reads and understands (tensorflow/python/saved_model/
 * constants.py): judged with the folder. Everything else in it (assets, keras_metadata.pb, a
 * pickle dropped beside it) is judged on its own. fingerprint.pb holds only hashes (TF 2.12+
 * fingerprinting.proto) that TensorFlow reads for metrics, never to build the graph.
 */
const SAVED_MODEL_LAYOUT =
  /^(saved_model\.pb|fingerprint\.pb|variables[/\\]variables\.(index|data-\d{5}-of-\d{5}))$/;

/**
 * One file judged: its reader's verdict (scanPath), and for a file no reader claims, whether it is
 * plain data (JSON, text) read whole. Anything else stays an `error` (format `unknown`).
 */
export async function scanFile(path: string): Promise<ScanFileResult> {
  if (await startsAsTar(path)) return legacyTar(path);
  const result = await scanPath(path);
  if (result.verdict !== 'error' || result.findings.length > 0 || (await claimed(path))) return result;
  const data = await judgeDataFile(path).catch((error) => {
    if (isFerryError(error)) return undefined;
    throw error;
  });
  if (!data) return { ...result, format: 'unknown' };
  return {
    path,
    format: data.format,
    verdict: verdictOf(data.findings),
    findings: data.findings,
  };
}

async function startsAsTar(path: string): Promise<boolean> {
  const source = await FileSource.open(path).catch(() => undefined);
  if (!source) return false; // scanPath names the error
  try {
    return isTar(await source.read(0, Math.min(source.size, 512)));
  } finally {
    await source.close();
  }
}

/** torch.load tries a tar first (legacy_load): its pickles are judged, its data stepped over. */
async function legacyTar(path: string): Promise<ScanFileResult> {
  const scan = await scanLegacyTorchTar(path);
  const findings = [...scan.findings].sort(
    (a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity),
  );
  const format = 'pytorch-legacy-tar';
  if (scan.error)
    return {
      path,
      format,
      verdict: 'error',
      findings,
      error: { code: scan.error.code, message: scan.error.message },
    };
  return { path, format, verdict: verdictOf(findings), findings };
}

async function claimed(path: string): Promise<boolean> {
  try {
    await detectHandler(path);
    return true;
  } catch (error) {
    if (!isFerryError(error)) throw error;
    return false;
  }
}

function failed(path: string, error: FerryError): ScanFileResult {
  return {
    path,
    format: 'unknown',
    verdict: 'error',
    findings: [],
    error: { code: error.code, message: error.message },
  };
}

/**
 * Scans a path: a file, or a folder where every regular file is judged (a folder a reader claims,
 * a SavedModel, is judged as a model too, and every file in it that is not part of its layout on
 * its own). Symbolic links are followed when their real target stays inside the folder (a Hugging
 * Face cache snapshot links snapshots/REV/FILE to ../../blobs/SHA); one leading outside is an
 * error, a folder reached twice (a loop) is walked once. A folder with no file is an error: an
 * empty scan was not shown to be safe.
 */
export async function scanPaths(path: string, options: ScanFolderOptions = {}): Promise<ScanFileResult[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) return [await scanFile(path)];
  const root = await realpath(path);
  const results: ScanFileResult[] = [];
  const visited = new Set<string>();
  /** Results by real path: a blob linked from two snapshots is read once. */
  const judged = new Map<string, ScanFileResult>();
  const inside = (real: string) => real === root || real.startsWith(root + sep);

  const walk = async (shown: string, real: string, depth: number): Promise<void> => {
    if (visited.has(real)) return;
    visited.add(real);
    if (depth > MAX_SCAN_DEPTH) {
      results.push(
        failed(
          shown,
          ferryError('FERRY_LIMIT', {
            path: shown,
            what: 'folder depth',
            value: depth,
            limit: MAX_SCAN_DEPTH,
            reason: 'CWE-674',
          }),
        ),
      );
      return;
    }
    let layout: RegExp | undefined;
    try {
      const handler = await detectHandler(shown);
      results.push(await scanPath(shown));
      if (handler.name === 'savedmodel') layout = SAVED_MODEL_LAYOUT;
    } catch (error) {
      if (!isFerryError(error)) throw error;
      if (error.code !== 'FERRY_UNKNOWN_FORMAT') results.push(failed(shown, error));
    }
    await walkFiles(shown, real, depth, real, layout);
  };

  const walkFiles = async (
    shown: string,
    real: string,
    depth: number,
    modelRoot: string,
    layout: RegExp | undefined,
  ): Promise<void> => {
    for (const name of (await readdir(real)).sort()) {
      const childShown = join(shown, name);
      const lexical = join(real, name);
      if (layout?.test(relative(modelRoot, lexical))) continue;
      if (results.length >= MAX_SCAN_FILES) {
        throw ferryError('FERRY_LIMIT', {
          path,
          what: 'files in the folder',
          value: `> ${MAX_SCAN_FILES}`,
          limit: MAX_SCAN_FILES,
          reason: 'CWE-770',
        });
      }
      let target = lexical;
      let entry = await lstat(lexical);
      if (entry.isSymbolicLink()) {
        try {
          target = await realpath(lexical);
          entry = await stat(target);
        } catch (error) {
          results.push(
            failed(
              childShown,
              ferryError('FERRY_IO', {
                path: childShown,
                reason: `broken link: ${(error as Error).message}`,
              }),
            ),
          );
          continue;
        }
        if (!options.followLinksOutside && !inside(target)) {
          results.push(
            failed(
              childShown,
              ferryError('FERRY_PATH_ESCAPE', {
                path: childShown,
                what: 'a symbolic link',
                reason: `it leads to ${target}; links are followed only inside the scanned folder`,
              }),
            ),
          );
          continue;
        }
      }
      if (entry.isDirectory()) {
        const realDir = target === lexical ? await realpath(lexical) : target;
        // Inside a model folder, its own subfolders (variables/) keep the layout; a linked or
        // nested folder is judged afresh.
        if (
          layout &&
          target === lexical &&
          relative(modelRoot, lexical) === 'variables' &&
          !visited.has(realDir)
        ) {
          visited.add(realDir);
          await walkFiles(childShown, realDir, depth + 1, modelRoot, layout);
        } else await walk(childShown, realDir, depth + 1);
      } else if (entry.isFile()) {
        const known = judged.get(target);
        const result = known ? { ...known, path: childShown } : await scanFile(childShown);
        judged.set(target, result);
        results.push(result);
      } else {
        results.push(
          failed(
            childShown,
            ferryError('FERRY_UNSUPPORTED', {
              path: childShown,
              what: 'a FIFO, socket or device',
              reason: 'only regular files are scanned (reading one could block or never end)',
            }),
          ),
        );
      }
    }
  };

  await walk(path, root, 0);
  if (results.length === 0) {
    results.push(
      failed(path, ferryError('FERRY_UNKNOWN_FORMAT', { path, reason: 'the folder holds no file to judge' })),
    );
  }
  return results;
}

/**
 * The verdict of many files, worst first (VERDICT_ORDER): something that runs code beats an unread
 * file beats an invalid one beats safe.
 */
export function worstVerdict(results: readonly ScanFileResult[]): Verdict {
  if (results.some(isUnsafeResult)) return 'unsafe';
  return VERDICT_ORDER.find((v) => results.some((r) => r.verdict === v)) ?? 'safe';
}

/** Unsafe: its verdict, or an error after a finding that alone makes a file unsafe. */
export function isUnsafeResult(result: ScanFileResult): boolean {
  return result.verdict === 'unsafe' || isUnsafe(result.findings);
}
