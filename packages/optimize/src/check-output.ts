import type { onnx } from '@ferry/formats';
import { inputSpecs, randomFeeds, sampleFeeds } from './inputs.js';
import { openSession } from './runtime.js';
import { readSampleFile } from './safetensors-data.js';
import { compareModels, type VerifyReport } from './verify.js';

export interface VerifyOptions {
  /** Random samples to run (ignored when `inputs` is given). */
  readonly samples: number;
  /** A safetensors file with one tensor per model input. */
  readonly inputs?: string;
  readonly seed?: number;
}

/** Runs the original (as given on disk) and the result (bytes) side by side. */
export async function verifyResult(
  originalPath: string,
  originalModel: onnx.OnnxModel,
  result: string | Uint8Array,
  resultPath: string,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const specs = inputSpecs(originalModel);
  const feeds = options.inputs
    ? sampleFeeds(specs, await readSampleFile(options.inputs), options.inputs)
    : randomFeeds(specs, options.samples, options.seed);
  // Both run at the same (basic) level so the comparison is of the models, not of the fusions.
  const a = await openSession(originalPath, originalPath, 'load the original model', { level: 'basic' });
  const b = await openSession(result, resultPath, 'load the result', { level: 'basic' });
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
