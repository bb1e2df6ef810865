import type { VerifyOptions, VerifyReport } from '@ferry/optimize';
import type { OptionSpec, ParsedArgs } from '../command.js';
import { formatBytes } from '../format-table.js';
import { pathOption, positiveInteger } from '../options.js';
import { UsageError } from '../usage-error.js';

/** Each sample runs through two sessions; past this a check is a benchmark (CWE-400 for scripts). */
export const MAX_VERIFY_SAMPLES = 10_000;

/** Tensors to OUT.onnx.data (optimize, quantize, convert --fp16). */
export const EXTERNAL_DATA_OPTION: Readonly<Record<string, OptionSpec>> = {
  'external-data': {
    type: 'boolean',
    description: 'write tensors of 1 KiB and more to OUT.onnx.data (automatic past 2 GB)',
  },
};

/** Options shared by optimize, quantize and convert --fp16. */
export const RESULT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  output: {
    type: 'string',
    short: 'o',
    valueName: 'OUT.onnx',
    description: 'where to write the result (atomically)',
  },
  verify: {
    type: 'string',
    valueName: 'N',
    description: 'run N random inputs through the original and the result and compare',
  },
  inputs: {
    type: 'string',
    valueName: 'FILE',
    description: 'with --verify: given inputs (safetensors, one tensor per model input)',
  },
};

export function modelAndOutput(args: ParsedArgs, command: string): { model: string; output: string } {
  const model = args.positionals[0];
  if (!model || args.positionals.length > 1) throw new UsageError(`${command} takes one MODEL.onnx`);
  const output = pathOption(args.values, 'output');
  if (output === undefined) throw new UsageError(`${command} needs -o OUT.onnx`);
  return { model, output };
}

export function verifyOptions(args: ParsedArgs): VerifyOptions | undefined {
  const samples = positiveInteger(args.values, 'verify', MAX_VERIFY_SAMPLES);
  const inputs = pathOption(args.values, 'inputs');
  if (samples === undefined) return inputs === undefined ? undefined : { samples: 0, inputs };
  return { samples, ...(inputs !== undefined && { inputs }) };
}

export function sizeLine(before: number, after: number): string {
  return `  size: ${formatBytes(before)} -> ${formatBytes(after)} (${(after / before).toFixed(2)}x)`;
}

function num(x: number): string {
  return x === 0 ? '0' : x.toExponential(2);
}

export function verifyLines(report: VerifyReport | undefined): string[] {
  if (!report) return [];
  const lines = [`verify (${report.samples} ${report.source} samples, original vs result in onnxruntime):`];
  for (const o of report.outputs) {
    const top1 =
      o.top1Agreement !== undefined
        ? `, top-1 agreement ${(o.top1Agreement * 100).toFixed(1)}% (${Math.round(o.top1Agreement * (o.rows ?? 0))}/${o.rows})`
        : '';
    lines.push(
      `  ${o.name}: max abs error ${num(o.maxAbsError)}, max rel error ${num(o.maxRelError)}, mean abs error ${num(o.meanAbsError)}${top1}`,
    );
  }
  return lines;
}
