import { stat } from 'node:fs/promises';
import { fp16 } from '@ferry/formats';
import { type VerifyOptions, verifyResult } from './check-output.js';
import { checkResult, loadForTransform, writeModelBytes } from './model-io.js';
import type { VerifyReport } from './verify.js';

export interface Float16Report {
  readonly input: string;
  readonly output: string;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly keepIoTypes: boolean;
  readonly convertedInitializers: number;
  readonly clampedValues: number;
  readonly blockedNodes: string[];
  readonly verify?: VerifyReport;
}

export async function convertFileToFloat16(
  inPath: string,
  outPath: string,
  options: { keepIoTypes?: boolean; blockList?: readonly string[]; verify?: VerifyOptions } = {},
): Promise<Float16Report> {
  const { model } = await loadForTransform(inPath);
  const result = fp16.convertToFloat16(model, {
    path: inPath,
    keepIoTypes: options.keepIoTypes ?? false,
    ...(options.blockList && { blockList: options.blockList }),
  });
  const bytes = await checkResult(result.model, outPath, 'float16');
  const verify = options.verify
    ? await verifyResult(inPath, model, bytes, outPath, options.verify)
    : undefined;
  await writeModelBytes(outPath, bytes);
  return {
    input: inPath,
    output: outPath,
    bytesBefore: (await stat(inPath)).size,
    bytesAfter: bytes.byteLength,
    keepIoTypes: options.keepIoTypes ?? false,
    convertedInitializers: result.convertedInitializers,
    clampedValues: result.clamped,
    blockedNodes: result.blockedNodes,
    ...(verify && { verify }),
  };
}
