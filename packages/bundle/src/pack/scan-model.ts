import { type Finding, type ScanFileResult, scanPath } from '@ferry/formats';

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
export const scanModelFile: ModelScanner = (path) => scanPath(path);
