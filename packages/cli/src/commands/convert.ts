import {
  type ConvertedModel,
  type ConvertResult,
  converterFor,
  detectSource,
  type ModelConverter,
  ONNX_WEIGHTS,
  TO_SAFETENSORS,
} from '@ferry/convert';
import { openModel, type WriteProgress, writeAll, writeFileAtomic } from '@ferry/formats';
import type { Command, ParsedArgs } from '../command.js';
import { formatBytes, formatCount } from '../format-table.js';
import { type CliIO, printJson } from '../io.js';
import { ProgressBar } from '../progress.js';
import { pathOption, stringList, stringOption } from '../options.js';
import { UsageError } from '../usage-error.js';
import { convertOnnxToFp16, FP16_OPTIONS } from './convert-fp16.js';

/**
 * How the CLI runs one kind of @ferry/convert converter (its progress and summary). Which
 * converter runs is picked by `pickMode` from the input's detected format and the converter table.
 */
interface ConvertMode {
  run(input: string, output: string, args: ParsedArgs, io: CliIO): Promise<ConvertSummary>;
}

/** What every mode reports; printed as a summary line, or as JSON with --json. */
export interface ConvertSummary {
  readonly input: string;
  readonly output: string;
  readonly format: string;
  readonly tensors: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly [extra: string]: unknown;
}

/** A progress bar fed by the writer's per-tensor callback. */
function progressFor(
  io: CliIO,
  label: string,
): { onProgress: (p: WriteProgress) => void; finish: () => void } {
  let bar: ProgressBar | undefined;
  return {
    onProgress: (p) => {
      bar ??= new ProgressBar(io, label, p.bytesTotal);
      bar.update(p.bytesDone, p.tensor);
    },
    finish: () => bar?.finish(),
  };
}

const toSafetensors: ConvertMode = {
  async run(input, output, _args, io) {
    const started = process.hrtime.bigint();
    const progress = progressFor(io, 'convert');
    let result: ConvertResult;
    try {
      result = await TO_SAFETENSORS.convert(input, output, { onProgress: progress.onProgress });
    } finally {
      progress.finish();
    }
    return { ...result, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  },
};

/**
 * `convert MODEL.onnx --weights W -o OUT.onnx`: the graph of MODEL with its initializers taken
 * from W (safetensors, or any format ferry reads tensors from), names, dtypes and shapes checked.
 */
const onnxWithWeights: ConvertMode = {
  async run(input, output, args, io) {
    const started = process.hrtime.bigint();
    const weights = await openModel(pathOption(args.values, 'weights')!);
    const bar = new ProgressBar(io, 'convert', weights.tensors.length);
    try {
      const result = await ONNX_WEIGHTS.convert(input, weights.tensors, output, {
        externalData: args.values['external-data'] === true,
        partial: args.values.partial === true,
        onProgress: (done) => bar.update(done),
      });
      const bytes = weights.tensors.reduce((sum, t) => sum + t.byteLength, 0);
      return {
        input,
        output,
        format: 'onnx',
        tensors: result.replaced,
        bytes,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        weights: weights.path,
        ...(result.dataPath && { dataPath: result.dataPath }),
      };
    } finally {
      bar.finish();
      await weights.close();
    }
  },
};

/**
 * `convert SAVEDMODEL_DIR -o model.onnx [--tag serve] [--signature NAME]` (one signature's graph,
 * variables frozen), `convert FROZEN.pb -o model.onnx [--inputs X:0] [--outputs pred:0]` (a frozen
 * GraphDef, tensors named as tf2onnx names them) and `convert MODEL.joblib|.pkl|.json|.ubj -o model.onnx` (a fitted
 * scikit-learn estimator from the inert pickle graph, or an XGBoost model, as ONNX-ML): the
 * converter builds the model in memory and the file appears whole or not at all.
 */
function toOnnxModel(converter: ModelConverter): ConvertMode {
  return {
    async run(input, output, args) {
      const started = process.hrtime.bigint();
      const tag = stringOption(args.values, 'tag');
      const signature = stringOption(args.values, 'signature');
      const inputs = stringList(args.values, 'inputs', { split: ',' });
      const outputs = stringList(args.values, 'outputs', { split: ',' });
      const graphDef = converter.from.includes('tfgraph');
      if (graphDef && (tag !== undefined || signature !== undefined))
        throw new UsageError(
          '--tag and --signature select in a SavedModel; a frozen GraphDef takes --inputs/--outputs',
        );
      if (!graphDef && (inputs !== undefined || outputs !== undefined))
        throw new UsageError(
          `--inputs and --outputs name tensors of a frozen GraphDef, not of ${converter.name}'s input`,
        );
      const converted: ConvertedModel = await converter.convert(input, {
        ...(tag !== undefined && { tag }),
        ...(signature !== undefined && { signature }),
        ...(inputs !== undefined && { inputs }),
        ...(outputs !== undefined && { outputs }),
      });
      await writeFileAtomic(output, (file) => writeAll(file, converted.bytes));
      return {
        input,
        output,
        format: converted.format,
        tensors: converted.model.graph?.initializer?.length ?? 0,
        bytes: converted.bytes.length,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        ...converted.details,
      };
    },
  };
}

/**
 * `--weights` replaces an ONNX graph's initializers; otherwise the target is ONNX for an `.onnx`
 * output and the converter is the table's entry for the input's format and that target. Anything
 * without an ONNX converter (and every other output) streams its tensors to safetensors.
 */
async function pickMode(input: string, output: string, args: ParsedArgs): Promise<ConvertMode> {
  if (pathOption(args.values, 'weights') !== undefined) return onnxWithWeights;
  const target = output.toLowerCase().endsWith('.onnx') ? 'onnx' : 'safetensors';
  const converter = converterFor(await detectSource(input), target);
  return converter?.kind === 'model' ? toOnnxModel(converter) : toSafetensors;
}

export const convertCommand: Command = {
  name: 'convert',
  summary:
    'convert a model to safetensors, streaming tensor by tensor (the output appears whole or not at all)',
  usage:
    'convert IN -o OUT.safetensors | convert MODEL.onnx --weights W.safetensors -o OUT.onnx | convert MODEL.onnx --fp16 [--keep-io-types] -o OUT.onnx | convert SAVEDMODEL_DIR -o OUT.onnx [--tag serve] [--signature NAME] | convert FROZEN.pb -o OUT.onnx [--inputs X:0,...] [--outputs Y:0,...] | convert MODEL.joblib|.pkl|XGB.json|XGB.ubj -o OUT.onnx',
  options: {
    output: { type: 'string', short: 'o', valueName: 'OUT', description: 'the file to write' },
    weights: {
      type: 'string',
      valueName: 'W',
      description: "replace an ONNX model's initializers with W's tensors (same names, dtypes, shapes)",
    },
    'external-data': {
      type: 'boolean',
      description: 'with --weights: put tensor data in OUT.data (automatic over 2 GB)',
    },
    partial: { type: 'boolean', description: 'with --weights: keep initializers W does not name' },
    ...FP16_OPTIONS,
    tag: {
      type: 'string',
      valueName: 'TAGS',
      description: 'SavedModel to ONNX: the MetaGraph tag set, comma-separated (default serve)',
    },
    signature: {
      type: 'string',
      valueName: 'NAME',
      description: 'SavedModel to ONNX: the signature to convert (default serving_default)',
    },
    inputs: {
      type: 'string',
      multiple: true,
      valueName: 'T,...',
      description:
        'frozen GraphDef to ONNX: the tensors fed, NODE:INDEX as tf2onnx (default the Placeholders the outputs reach)',
    },
    outputs: {
      type: 'string',
      multiple: true,
      valueName: 'T,...',
      description: 'frozen GraphDef to ONNX: the tensors fetched (default the nodes no other node consumes)',
    },
  },
  async run(args, io) {
    // --fp16 rewrites the graph itself (float16 weights and compute) and reports accuracy
    if (args.values.fp16) return convertOnnxToFp16(args, io);
    const [input, ...extra] = args.positionals;
    if (!input || extra.length > 0) throw new UsageError('convert takes one input path');
    const output = pathOption(args.values, 'output');
    if (output === undefined) throw new UsageError('convert needs -o OUT');
    const mode = await pickMode(input, output, args);
    const summary = await mode.run(input, output, args, io);
    if (args.values.json) printJson(io, summary);
    else io.stdout.write(`${describe(summary)}\n`);
    return 0;
  },
};

function describe(summary: ConvertSummary): string {
  const shared = Object.keys((summary.shared as Record<string, string> | undefined) ?? {}).length;
  const sharedNote = shared > 0 ? ` (${formatCount(shared)} tied names recorded in __metadata__)` : '';
  const ioNote =
    summary.format === 'tfgraph' && Array.isArray(summary.inputs) && Array.isArray(summary.outputs)
      ? ` (inputs ${summary.inputs.join(', ') || 'none'}; outputs ${summary.outputs.join(', ')})`
      : '';
  const graphNote =
    typeof summary.signature === 'string'
      ? `; signature ${summary.signature}: ${formatCount(summary.nodes as number)} ONNX nodes, opset ${summary.opset}${ioNote}`
      : '';
  const estimatorNote =
    typeof summary.estimator === 'string'
      ? `; ${summary.estimator} (${summary.kind}, ${summary.features} features) as ${formatCount(summary.nodes as number)} ONNX nodes, outputs ${(summary.outputs as string[]).join(', ')}`
      : '';
  return `${summary.output}: ${formatCount(summary.tensors)} tensors, ${formatBytes(summary.bytes)} from ${summary.input} (${summary.format}) in ${summary.seconds.toFixed(2)} s${sharedNote}${graphNote}${estimatorNote}`;
}
