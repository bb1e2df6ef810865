import { stat } from 'node:fs/promises';
import { detectHandler } from './detect.js';
import { ferryError, isFerryError } from './errors.js';
import type { Finding, FormatHandler, FormatName } from './model.js';
import { compression, scanContainer, sniffContainer } from './pickle/container.js';
import { FileInput } from './pickle/input.js';
import { SEVERITY_ORDER } from './pickle/policy.js';
import { scanReadings } from './scan-readings.js';
import { FileSource } from './tensor/byte-source.js';
import { type Verdict, verdictOf } from './verdict.js';

/** Formats whose loaders run pickles: scanned by the pickle machine. */
const PICKLE_FAMILY: ReadonlySet<FormatName> = new Set([
  'pickle',
  'joblib',
  'pytorch',
  'pytorch-legacy',
  'torchscript',
  'npy',
  'npz',
]);

/** One file's scan, exactly what `ferry scan --json` prints per file. */
export interface ScanFileResult {
  readonly path: string;
  /** The format found by the bytes (`pytorch`, `pickle`, `zip`, `onnx`...), or `unknown`. */
  readonly format: string;
  /** verdict.ts: unsafe (runs code on load), error (not read), invalid (breaks its format), safe. */
  readonly verdict: Verdict;
  readonly findings: readonly Finding[];
  /**
   * The error code and message: for verdict `error`, and for `unsafe` when the file failed to
   * parse after it had already shown findings (a loader runs everything before the failure).
   */
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * Scans one file or model folder without running anything in it. Pickle-family files (found by
 * magic bytes, never by extension) go through the pickle machine and the allowlist; any other
 * format is opened by its handler and its own findings (e.g. file or process ops in a
 * SavedModel graph) are collected. A file that cannot be parsed is an `error`, never `safe`.
 * Every other reading of the file that parses (a polyglot) is scanned too (scan-readings.ts).
 */
export async function scanPath(path: string): Promise<ScanFileResult> {
  return scanReadings(path, await scanByFormat(path));
}

async function scanByFormat(path: string): Promise<ScanFileResult> {
  let sniffed = 'unknown';
  try {
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw ferryError('FERRY_NOT_FOUND', { path });
      throw ferryError('FERRY_IO', { path, reason: error.message }, error);
    });
    // Another format's reader claims the file (safetensors, ONNX, GGUF, SavedModel...): its own
    // findings count. Pickle-family files, and files no reader claims, go through the machine.
    let handler: FormatHandler | undefined;
    let unknown: unknown; // detect's own reason (an empty file, a git-LFS pointer) is the one to show
    try {
      handler = await detectHandler(path);
    } catch (error) {
      if (!isFerryError(error) || error.code !== 'FERRY_UNKNOWN_FORMAT') throw error;
      unknown = error;
    }
    if (info.isFile() && (!handler || PICKLE_FAMILY.has(handler.name))) {
      const source = await FileSource.open(path);
      let inputs: FileInput[] = [];
      try {
        const head = await source.read(0, Math.min(source.size, 16));
        // Of the pickle family only joblib.load reads compressed files: one that fails is joblib's.
        sniffed = compression(head) ? 'joblib' : (sniffContainer(head) ?? 'unknown');
        const scan = await scanContainer(source, path, (start, end) => {
          const input = new FileInput(path, start, end);
          inputs.push(input);
          return input;
        });
        if (scan?.error) {
          // Findings outrank the error (issue #16.4): what ran before the failure already ran.
          const judged = result(path, scan.format, scan.findings);
          return {
            ...judged,
            verdict: judged.verdict === 'unsafe' ? 'unsafe' : 'error',
            error: { code: scan.error.code, message: scan.error.message },
          };
        }
        if (scan) return result(path, scan.format, scan.findings);
      } finally {
        for (const input of inputs) input.close();
        inputs = [];
        await source.close();
      }
    }
    if (!handler)
      throw (
        unknown ?? ferryError('FERRY_UNKNOWN_FORMAT', { path, reason: 'no known magic bytes or structure' })
      );
    const model = await handler.open(path, { unsafeInspect: true });
    try {
      return result(path, model.format, model.findings ?? []);
    } finally {
      await model.close();
    }
  } catch (error) {
    if (!isFerryError(error)) throw error;
    return {
      path,
      format: error.code === 'FERRY_UNKNOWN_FORMAT' ? 'unknown' : sniffed,
      verdict: 'error',
      findings: [],
      error: { code: error.code, message: error.message },
    };
  }
}

function result(path: string, format: string, findings: readonly Finding[]): ScanFileResult {
  const sorted = [...findings].sort(
    (a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity),
  );
  return { path, format, verdict: verdictOf(sorted), findings: sorted };
}
