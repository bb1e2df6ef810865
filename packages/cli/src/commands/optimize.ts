import { OPTIMIZATION_LEVELS, type OptimizationLevel, optimizeModel } from '@ferry/optimize';
import type { Command } from '../command.js';
import { formatCount, formatTable } from '../format-table.js';
import { printJson } from '../io.js';
import { enumOption } from '../options.js';
import {
  EXTERNAL_DATA_OPTION,
  modelAndOutput,
  RESULT_OPTIONS,
  sizeLine,
  verifyLines,
  verifyOptions,
} from './optimize-common.js';

export const optimizeCommand: Command = {
  name: 'optimize',
  summary: "apply onnxruntime's graph optimizations to an ONNX model offline and save the result",
  usage: 'optimize MODEL.onnx -o OUT.onnx [--level basic|extended|all] [--verify N]',
  options: {
    ...RESULT_OPTIONS,
    ...EXTERNAL_DATA_OPTION,
    level: {
      type: 'string',
      valueName: 'LEVEL',
      description:
        'basic (folding, redundancy), extended (fusions; default) or all (adds CPU-specific layouts)',
    },
  },
  async run(args, io) {
    const { model, output } = modelAndOutput(args, 'optimize');
    const level = enumOption<OptimizationLevel>(args.values, 'level', OPTIMIZATION_LEVELS) ?? 'extended';
    const verify = verifyOptions(args);
    const report = await optimizeModel(model, output, {
      level,
      externalData: args.values['external-data'] === true,
      ...(verify && { verify }),
    });
    if (args.values.json) {
      printJson(io, report);
      return 0;
    }
    const rows = Object.entries(report.ops)
      .sort((a, b) => b[1][0] - a[1][0] || b[1][1] - a[1][1] || a[0].localeCompare(b[0]))
      .map(([op, [before, after]]) => [op, before, after]);
    const lines = [
      `${report.input} -> ${report.output} (level ${report.level})`,
      `  nodes: ${formatCount(report.nodesBefore)} -> ${formatCount(report.nodesAfter)}`,
      sizeLine(report.bytesBefore, report.bytesAfter),
      ...(report.dataPath ? [`  external data: ${report.dataPath}`] : []),
      '',
      formatTable(['op', 'before', 'after'], rows)
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
      ...(report.verify ? ['', ...verifyLines(report.verify)] : []),
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
