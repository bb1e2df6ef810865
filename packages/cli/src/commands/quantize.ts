import { type CalibrationMethod, quantize, quantizeFile } from '@ferry/optimize';
import type { Command } from '../command.js';
import { printJson } from '../io.js';
import { enumOption, nonNegativeInteger, numberOption, pathOption, stringList } from '../options.js';
import { UsageError } from '../usage-error.js';
import {
  EXTERNAL_DATA_OPTION,
  modelAndOutput,
  RESULT_OPTIONS,
  sizeLine,
  verifyLines,
  verifyOptions,
} from './optimize-common.js';

export const quantizeCommand: Command = {
  name: 'quantize',
  summary: 'int8-quantize an ONNX model (dynamic, or static with --calibrate), as onnxruntime does',
  usage:
    'quantize MODEL.onnx -o OUT.onnx [--per-channel] [--reduce-range] [--ops MatMul,Gemm,Conv,Gather] [--format qoperator|qdq] [--calibrate DATA] [--verify N]',
  options: {
    ...RESULT_OPTIONS,
    ...EXTERNAL_DATA_OPTION,
    'per-channel': { type: 'boolean', description: 'one scale per output channel (better for Conv)' },
    'reduce-range': {
      type: 'boolean',
      description: '7-bit weights, for CPUs without VNNI (no int16 overflow)',
    },
    ops: {
      type: 'string',
      valueName: 'LIST',
      description: `op types to quantize, comma-separated (default MatMul,Gemm; any of ${quantize.QUANTIZABLE_OPS.join(',')})`,
    },
    format: {
      type: 'string',
      valueName: 'FORM',
      description:
        'qoperator (MatMulInteger/ConvInteger; default) or qdq (QuantizeLinear/DequantizeLinear pairs)',
    },
    'min-elements': {
      type: 'string',
      valueName: 'N',
      description: `leave weights with fewer elements in float (default ${quantize.DEFAULT_MIN_WEIGHT_ELEMENTS})`,
    },
    calibrate: {
      type: 'string',
      valueName: 'DATA',
      description:
        'static quantization: sample inputs (safetensors) to calibrate activation ranges (QDQ form)',
    },
    method: { type: 'string', valueName: 'M', description: 'calibration: minmax (default) or percentile' },
    percentile: {
      type: 'string',
      valueName: 'P',
      description: 'with --method percentile: the kept share (default 99.999)',
    },
  },
  async run(args, io) {
    const { model, output } = modelAndOutput(args, 'quantize');
    const v = args.values;
    const ops = stringList(v, 'ops', { split: ',' });
    for (const op of ops ?? [])
      if (!(quantize.QUANTIZABLE_OPS as readonly string[]).includes(op))
        throw new UsageError(`--ops: ${op} is not one of ${quantize.QUANTIZABLE_OPS.join(', ')}`);
    const calibrate = pathOption(v, 'calibrate');
    const format = enumOption(v, 'format', ['qoperator', 'qdq']) ?? (calibrate ? 'qdq' : 'qoperator');
    if (calibrate && format !== 'qdq')
      throw new UsageError('--calibrate writes the QDQ form; drop --format qoperator');
    const givenMethod = enumOption<CalibrationMethod>(v, 'method', ['minmax', 'percentile']);
    const method = givenMethod ?? 'minmax';
    if (givenMethod && !calibrate) throw new UsageError('--method needs --calibrate DATA');
    const percentile = numberOption(v, 'percentile', { above: 50, atMost: 100 });
    if (percentile !== undefined && method !== 'percentile')
      throw new UsageError('--percentile needs --method percentile');
    const minElements = nonNegativeInteger(v, 'min-elements');
    const verify = verifyOptions(args);
    const report = await quantizeFile(model, output, {
      ...(ops && { ops: ops as quantize.QuantizableOp[] }),
      perChannel: v['per-channel'] === true,
      reduceRange: v['reduce-range'] === true,
      externalData: v['external-data'] === true,
      format,
      ...(minElements !== undefined && { minWeightElements: minElements }),
      ...(calibrate !== undefined && { calibrate, method }),
      ...(percentile !== undefined && { percentile }),
      ...(verify && { verify }),
    });
    if (v.json) {
      printJson(io, report);
      return 0;
    }
    const lines = [
      `${report.input} -> ${report.output} (${report.mode} int8, ${report.format} form)`,
      sizeLine(report.bytesBefore, report.bytesAfter),
      ...(report.dataPath ? [`  external data: ${report.dataPath}`] : []),
      ...(report.opsetRaised
        ? [`  opset: ${report.opsetRaised.from} -> ${report.opsetRaised.to} (DynamicQuantizeLinear needs 11)`]
        : []),
      ...(report.calibration
        ? [
            `  calibration: ${report.calibration.method} over ${report.calibration.samples} samples, ${report.calibration.activations} activations`,
          ]
        : []),
      `  quantized ${report.quantized.length} nodes:`,
      ...report.quantized.map(
        (q) =>
          `    ${q.op} ${q.node}: weight ${q.weight} (${q.elements} elements, ${q.perChannel ? 'per channel' : 'per tensor'})`,
      ),
      ...(report.skipped.length > 0 ? [`  left in float or noted (${report.skipped.length}):`] : []),
      ...report.skipped.map((s) => `    ${s.op} ${s.node}: ${s.reason}`),
      ...(report.verify ? ['', ...verifyLines(report.verify)] : []),
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
