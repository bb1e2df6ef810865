import { type Finding, isFerryError, openModel, type Severity } from '@ferry/formats';

/** One model file's scan, in the shape of `ferry scan --json`'s per-file result. */
export interface ModelScan {
  readonly path: string;
  /** The format the bytes say (`onnx`, `safetensors`...), `unknown`, or `error`. */
  readonly format: string;
  readonly verdict: 'safe' | 'unsafe' | 'error';
  readonly findings: readonly Finding[];
  readonly error?: { readonly code: string; readonly message: string };
}

/** How pack scans a model file or folder; PackOptions.scan replaces it. */
export type ModelScanner = (path: string) => Promise<ModelScan>;

/** Findings at or above medium make a file unsafe; low and info are notes kept in the manifest. */
const UNSAFE: readonly Severity[] = ['critical', 'high', 'medium'];
const ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/**
 * The pack-time scan: the model is opened by @ferry/formats (which executes nothing) and the
 * reader's own findings decide. A file no reader can open is an `error`, never `safe`. This is
 * the one function to point at a dedicated scanner's entry point when @ferry/formats exports one
 * with this result shape.
 */
export const scanModelFile: ModelScanner = async (path) => {
  try {
    const model = await openModel(path, { unsafeInspect: true });
    try {
      const findings = [...(model.findings ?? [])].sort(
        (a, b) => ORDER.indexOf(a.severity) - ORDER.indexOf(b.severity),
      );
      return {
        path,
        format: model.format,
        verdict: findings.some((f) => UNSAFE.includes(f.severity)) ? 'unsafe' : 'safe',
        findings,
      };
    } finally {
      await model.close();
    }
  } catch (error) {
    if (!isFerryError(error)) throw error;
    return {
      path,
      format: error.code === 'FERRY_UNKNOWN_FORMAT' ? 'unknown' : 'error',
      verdict: 'error',
      findings: [],
      error: { code: error.code, message: error.message },
    };
  }
};
