import { stat } from 'node:fs/promises';
import { type VerifyOptions, verifyResult } from './check-output.js';
import { convertToFloat16 } from './fp16/convert.js';
import { loadForTransform } from './model-io.js';
import type { VerifyReport } from './verify.js';
import { writeResult } from './write-result.js';

export interface Float16Report {
  readonly input: string;
  readonly output: string;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly dataPath?: string;
  readonly keepIoTypes: boolean;
  readonly convertedInitializers: number;
  readonly clampedValues: number;
  readonly blockedNodes: string[];
  readonly verify?: VerifyReport;
}

export async function convertFileToFloat16(
  inPath: string,
  outPath: string,
  options: {
    keepIoTypes?: boolean;
    blockList?: readonly string[];
    verify?: VerifyOptions;
    externalData?: boolean;
  } = {},
): Promise<Float16Report> {
  const { model } = await loadForTransform(inPath);
  const result = convertToFloat16(model, {
    path: inPath,
    keepIoTypes: options.keepIoTypes ?? false,
    ...(options.blockList && { blockList: options.blockList }),
  });
  let verify: VerifyReport | undefined;
  const written = await writeResult(result.model, outPath, 'float16', {
    externalData: options.externalData ?? false,
    beforeCommit: async (path) => {
      if (options.verify) verify = await verifyResult(inPath, model, path, outPath, options.verify);
    },
  });
  return {
    input: inPath,
    output: outPath,
    bytesBefore: (await stat(inPath)).size,
    bytesAfter: written.bytes,
    ...(written.dataPath && { dataPath: written.dataPath }),
    keepIoTypes: options.keepIoTypes ?? false,
    convertedInitializers: result.convertedInitializers,
    clampedValues: result.clamped,
    blockedNodes: result.blockedNodes,
    ...(verify && { verify }),
  };
}
