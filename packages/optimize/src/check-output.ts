import type { onnx } from '@ferry/formats';
import { inputSpecs, randomFeeds, sampleFeeds } from './inputs.js';
import { openSession } from './runtime.js';
import { readSampleFile } from './sample-data.js';
import { compareModels, type VerifyReport } from './verify.js';

export interface VerifyOptions {
  /** Random samples to run (ignored when `inputs` is given). */
  readonly samples: number;
  /** A safetensors file with one tensor per model input. */
  readonly inputs?: string;
  readonly seed?: number;
}

/**
 * The level both sessions run at: `optimize` compares at `basic` (so its fusions are what is
 * compared); quantize and fp16 at onnxruntime's default `all`, as a server loads them.
 */
export type VerifyLevel = 'basic' | 'all';

/** Runs the original (as given on disk) and the result (bytes) side by side. */
export async function verifyResult(
  originalPath: string,
  originalModel: onnx.OnnxModel,
  result: string | Uint8Array,
  resultPath: string,
  options: VerifyOptions,
  level: VerifyLevel = 'all',
): Promise<VerifyReport> {
  const specs = inputSpecs(originalModel);
  const feeds = options.inputs
    ? sampleFeeds(specs, await readSampleFile(options.inputs), options.inputs)
    : randomFeeds(specs, options.samples, options.seed);
  const a = await openSession(originalPath, originalPath, 'load the original model', { level });
  const b = await openSession(result, resultPath, 'load the result', { level });
  try {
    return await compareModels(
      a,
      b,
      feeds,
      { original: originalPath, result: resultPath },
      options.inputs ? 'given' : 'random',
    );
  } finally {
    await a.release();
    await b.release();
  }
}
