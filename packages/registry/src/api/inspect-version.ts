import { join } from 'node:path';
import { detectFormat, type InspectReport, inspectModel, isFerryError } from '@ferry/formats';
import type { ScanVerdict, VersionFile } from '../store/types.js';
import { versionVerdict } from './version-verdict.js';
import { type VersionFilesPlace, withVersionFiles } from './version-files.js';

export interface VersionInspection {
  readonly formats: Record<string, string | null>;
  readonly inspect: { files: Record<string, unknown> };
  readonly scan: ScanVerdict;
  readonly scanDetail: string | null;
}

/**
 * Detects and inspects every file of a version, never executing anything: the files are laid out
 * in a temp folder (links to local blobs, copies of remote ones) because multi-file formats
 * (ONNX external data, SavedModel) need their neighbours.
 */
export async function inspectVersion(
  place: VersionFilesPlace,
  files: readonly VersionFile[],
): Promise<VersionInspection> {
  return withVersionFiles(place, files, async (dir) => {
    const formats: Record<string, string | null> = {};
    const reports: Record<string, unknown> = {};
    // `ferry scan DIR`'s judgement of the whole version: the verdict is its worst file's.
    const verdict = await versionVerdict(dir);
    const scanned = new Map(verdict.files.map((f) => [f.path, f]));
    for (const file of files) {
      const path = join(dir, file.path);
      try {
        formats[file.path] = await detectFormat(path);
      } catch (error) {
        if (!isFerryError(error)) throw error;
        formats[file.path] = null;
        continue;
      }
      const findings = scanned.get(file.path)?.findings ?? [];
      try {
        reports[file.path] = summary(await inspectModel(path));
      } catch (error) {
        if (!isFerryError(error)) throw error;
        // a file the scanner refuses is not opened (unsafe); a broken one is reported
        reports[file.path] = {
          format: formats[file.path],
          error: { code: error.code, message: error.message },
          ...(findings.length > 0 && { findings }),
        };
      }
    }
    return { formats, inspect: { files: reports }, scan: verdict.scan, scanDetail: verdict.scanDetail };
  });
}

function summary(report: InspectReport): Record<string, unknown> {
  return {
    format: report.format,
    tensors: report.tensors.length + (report.opaque?.length ?? 0),
    parameters: report.parameters,
    bytes: report.bytes,
    ...(report.inputs && { inputs: report.inputs }),
    ...(report.outputs && { outputs: report.outputs }),
    ...(report.findings && { findings: report.findings }),
  };
}
