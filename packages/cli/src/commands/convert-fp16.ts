import type { OptionSpec, ParsedArgs } from '../command.js';
import { type CliIO, printJson } from '../io.js';
import {
  EXTERNAL_DATA_OPTION,
  modelAndOutput,
  RESULT_OPTIONS,
  sizeLine,
  verifyLines,
  verifyOptions,
} from './optimize-common.js';

/** The options `ferry convert MODEL.onnx --fp16` adds (the convert command merges them in). */
export const FP16_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  fp16: { type: 'boolean', description: 'ONNX: convert float32 weights and compute to float16' },
  'keep-io-types': {
    type: 'boolean',
    description: 'with --fp16: keep float32 inputs and outputs (Cast at the boundary)',
  },
  ...RESULT_OPTIONS,
  ...EXTERNAL_DATA_OPTION,
};

/**
 * `ferry convert MODEL.onnx --fp16 -o OUT.onnx [--keep-io-types] [--verify N]`: called by the
 * convert command when --fp16 is given.
 */
export async function convertOnnxToFp16(args: ParsedArgs, io: CliIO): Promise<number> {
  const { model, output } = modelAndOutput(args, 'convert --fp16');
  const verify = verifyOptions(args);
  // @ferry/optimize (and ONNX Runtime) only for --fp16: converting a checkpoint does not load them
  const { convertFileToFloat16 } = await import('@ferry/optimize');
  const report = await convertFileToFloat16(model, output, {
    keepIoTypes: args.values['keep-io-types'] === true,
    externalData: args.values['external-data'] === true,
    ...(verify && { verify }),
  });
  if (args.values.json) {
    printJson(io, report);
    return 0;
  }
  const lines = [
    `${report.input} -> ${report.output} (float16${report.keepIoTypes ? ', float32 inputs and outputs kept' : ''})`,
    sizeLine(report.bytesBefore, report.bytesAfter),
    ...(report.dataPath ? [`  external data: ${report.dataPath}`] : []),
    `  initializers converted: ${report.convertedInitializers}, values clamped into float16 range: ${report.clampedValues}`,
    ...(report.blockedNodes.length > 0
      ? [`  kept in float32 (block list): ${report.blockedNodes.join(', ')}`]
      : []),
    ...(report.verify ? ['', ...verifyLines(report.verify)] : []),
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
