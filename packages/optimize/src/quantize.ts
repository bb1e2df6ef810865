import { stat } from 'node:fs/promises';
import { type CalibrationMethod, calibrate } from './calibrate.js';
import { type VerifyOptions, verifyResult } from './check-output.js';
import { loadForTransform } from './model-io.js';
import type { VerifyReport } from './verify.js';
import { writeResult } from './write-result.js';
import * as quantize from './quantize/index.js';

export interface QuantizeCommandOptions extends Omit<quantize.QuantizeOptions, 'path' | 'activationRanges'> {
  /** Static quantization: a safetensors file of sample inputs. */
  readonly calibrate?: string;
  readonly method?: CalibrationMethod;
  readonly percentile?: number;
  readonly verify?: VerifyOptions;
  /** Tensors of 1 KiB and more to OUT.onnx.data (automatic past 2 GB). */
  readonly externalData?: boolean;
}

export interface QuantizeReport {
  readonly input: string;
  readonly output: string;
  readonly mode: 'dynamic' | 'static';
  readonly format: quantize.QuantizeFormat;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly dataPath?: string;
  readonly quantized: quantize.QuantizedNodeReport[];
  readonly skipped: quantize.QuantizeResult['skipped'];
  readonly opsetRaised?: { from: number; to: number };
  readonly calibration?: { method: CalibrationMethod; samples: number; activations: number };
  readonly verify?: VerifyReport;
}

/** Quantizes, checks (structure, loads in onnxruntime), optionally verifies, then writes atomically. */
export async function quantizeFile(
  inPath: string,
  outPath: string,
  options: QuantizeCommandOptions = {},
): Promise<QuantizeReport> {
  const { model } = await loadForTransform(inPath);
  const format = options.calibrate ? 'qdq' : (options.format ?? 'qoperator');
  const base = { ...options, format, path: inPath };
  let activationRanges: Map<string, { min: number; max: number }> | undefined;
  let calibration: QuantizeReport['calibration'];
  if (options.calibrate) {
    // Refusals (opset, already quantized) come before any calibration run.
    quantize.quantizeModel(model, { ...base, format: 'qdq' });
    const targets = quantize.activationsToCalibrate(model, base);
    const method = options.method ?? 'minmax';
    const result = await calibrate(inPath, model, targets, options.calibrate, {
      method,
      percentile: options.percentile,
    });
    activationRanges = result.ranges;
    calibration = { method, samples: result.samples, activations: targets.length };
  }
  const result = quantize.quantizeModel(model, { ...base, ...(activationRanges && { activationRanges }) });
  let verify: VerifyReport | undefined;
  const written = await writeResult(result.model, outPath, 'quantized', {
    externalData: options.externalData ?? false,
    beforeCommit: async (path) => {
      if (options.verify) verify = await verifyResult(inPath, model, path, outPath, options.verify);
    },
  });
  return {
    input: inPath,
    output: outPath,
    mode: options.calibrate ? 'static' : 'dynamic',
    format,
    bytesBefore: (await stat(inPath)).size,
    bytesAfter: written.bytes,
    ...(written.dataPath && { dataPath: written.dataPath }),
    quantized: result.quantized,
    skipped: result.skipped,
    ...(result.opsetRaised && { opsetRaised: result.opsetRaised }),
    ...(calibration && { calibration }),
    ...(verify && { verify }),
  };
}
