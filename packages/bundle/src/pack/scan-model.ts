import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { type Finding, type ScanFileResult, scanPath, scanPaths, worstVerdict } from '@ferry/formats';
import { bundleError } from '../errors.js';

/** One model file's scan, exactly `ferry scan --json`'s per-file result. */
export type ModelScan = ScanFileResult;
export type { Finding };

/** How pack scans a model file or folder; PackOptions.scan replaces it. */
export type ModelScanner = (path: string) => Promise<ModelScan>;

/**
 * The pack-time scan is `ferry scan`'s: pickle-family files go through the non-executing pickle
 * machine and its allowlist, every other format is opened by its reader (which executes nothing)
 * and its own findings decide. A file no reader can open is an `error`, never `safe`.
 */
export const scanModelFile: ModelScanner = async (path) => {
  const info = await stat(path).catch(() => undefined);
  return info?.isDirectory() ? scanModelFolder(path) : scanPath(path);
};

/**
 * A model folder (a SavedModel) as `ferry scan DIR` judges it: the model, and every other file in
 * it on its own (a pickle dropped beside saved_model.pb is loaded by whoever imports the folder).
 * One result: the model's format, every file's findings (located by file), the worst verdict;
 * a file not read to its end makes the whole model unreadable.
 */
async function scanModelFolder(path: string): Promise<ModelScan> {
  const results = await scanPaths(path);
  const own = results.find((r) => r.path === path);
  const findings = results.flatMap((r) =>
    r === own
      ? r.findings
      : r.findings.map((f) => ({
          ...f,
          location: `${relative(path, r.path)}${f.location ? ` ${f.location}` : ''}`,
        })),
  );
  const format = own?.format ?? 'unknown';
  const failed = results.find((r) => r.verdict === 'error');
  if (!own || failed) {
    return {
      path,
      format,
      verdict: 'error',
      findings,
      error: failed?.error ?? {
        code: 'FERRY_UNKNOWN_FORMAT',
        message: `${path}: no reader claims the folder as a model`,
      },
    };
  }
  return { path, format, verdict: worstVerdict(results), findings };
}

/**
 * The pack-time verdict on one model's scan: an unreadable file, bytes of another format than
 * ferry.yaml declares, or an unsafe finding stop the pack. Returns the notes the manifest keeps,
 * with `hostPrefix` (a temp or project folder, ending in '/') cut from every message and location,
 * because a bundle names files by their paths inside it, never by where they lay on this machine.
 * `shown` is what errors name: the model's path on this machine, or its registry reference;
 * `temporary`: the files lie in a temp folder, whose paths are cut from errors too.
 */
export function checkModelScan(
  result: ModelScan,
  model: { readonly name: string; readonly format: string },
  where: { readonly shown: string; readonly hostPrefix: string; readonly temporary: boolean },
): Finding[] {
  const relativise = (text: string) => text.split(where.hostPrefix).join('');
  // A project's own paths help in an error; a temp folder's would only confuse (it is gone).
  const inError = where.temporary ? relativise : (text: string) => text;
  const path = where.shown;
  if (result.verdict === 'error')
    throw bundleError('FERRY_BUNDLE_MODEL_UNREADABLE', {
      path,
      model: model.name,
      reason: result.error
        ? `${result.error.code}: ${inError(result.error.message)}`
        : 'no reader accepts it',
    });
  if (result.format !== model.format)
    throw bundleError('FERRY_BUNDLE_FORMAT_MISMATCH', {
      path,
      model: model.name,
      declared: model.format,
      detected: result.format,
    });
  // Unsafe (runs code on load) and invalid (breaks its format; nothing runs) both stop the pack,
  // each named for what it is (docs/security.md "Verdicts").
  if (result.verdict === 'unsafe' || result.verdict === 'invalid')
    throw bundleError(
      result.verdict === 'unsafe' ? 'FERRY_BUNDLE_UNSAFE_MODEL' : 'FERRY_BUNDLE_INVALID_MODEL',
      {
        path,
        model: model.name,
        count: result.findings.length,
        findings: result.findings
          .map(
            (f) =>
              `[${f.severity}] ${f.rule}: ${inError(f.message)}${f.location ? ` (${inError(f.location)})` : ''}`,
          )
          .join('; '),
      },
    );
  return result.findings.map((f) => ({
    severity: f.severity,
    rule: f.rule,
    message: relativise(f.message),
    ...(f.location !== undefined && { location: relativise(f.location) }),
  }));
}
