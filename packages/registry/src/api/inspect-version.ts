import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { detectFormat, type InspectReport, inspectModel, isFerryError } from '@ferry/formats';
import type { BlobStore } from '../store/blob-store.js';
import type { ScanVerdict, VersionFile } from '../store/types.js';

export interface VersionInspection {
  readonly formats: Record<string, string | null>;
  readonly inspect: { files: Record<string, unknown> };
  readonly scan: ScanVerdict;
  readonly scanDetail: string | null;
}

/** Severities that make a file unsafe to load (a pickle that imports, a TorchScript with code). */
const UNSAFE = new Set(['critical', 'high']);

/**
 * Detects and inspects every file of a version, never executing anything: the files are laid out
 * in a temp folder (links to local blobs, copies of remote ones) because multi-file formats
 * (ONNX external data, SavedModel) need their neighbours.
 */
export async function inspectVersion(
  blobs: BlobStore,
  files: readonly VersionFile[],
): Promise<VersionInspection> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-inspect-'));
  try {
    for (const file of files) {
      const target = join(dir, file.path);
      await mkdir(dirname(target), { recursive: true });
      const local = blobs.localPath?.(file.sha256);
      if (local) await symlink(local, target);
      else await pipeline(await blobs.get(file.sha256), createWriteStream(target));
    }
    const formats: Record<string, string | null> = {};
    const reports: Record<string, unknown> = {};
    const unsafe: string[] = [];
    let recognised = 0;
    for (const file of files) {
      const path = join(dir, file.path);
      try {
        formats[file.path] = await detectFormat(path);
      } catch (error) {
        if (!isFerryError(error)) throw error;
        formats[file.path] = null;
        continue;
      }
      recognised++;
      try {
        const report = await inspectModel(path);
        reports[file.path] = summary(report);
        const bad = (report.findings ?? []).filter((f) => UNSAFE.has(f.severity));
        if (bad.length > 0) unsafe.push(`${file.path}: ${bad.map((f) => f.rule).join(', ')}`);
      } catch (error) {
        if (!isFerryError(error)) throw error;
        // A file the scanner refuses to open is unsafe by definition; a broken one is reported.
        reports[file.path] = {
          format: formats[file.path],
          error: { code: error.code, message: error.message },
        };
        if (/UNSAFE|SCAN|PICKLE/.test(error.code)) unsafe.push(`${file.path}: ${error.code}`);
      }
    }
    const scan: ScanVerdict = unsafe.length > 0 ? 'unsafe' : recognised > 0 ? 'safe' : 'unknown';
    return {
      formats,
      inspect: { files: reports },
      scan,
      scanDetail: unsafe.length > 0 ? unsafe.join('; ') : null,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
