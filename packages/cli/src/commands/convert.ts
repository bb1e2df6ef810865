import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ConvertResult,
  convertSavedModelToOnnxModel,
  convertSklearnToOnnx,
  convertToSafetensors,
  DEFAULT_SIGNATURE,
  DEFAULT_TAG,
  ONNX_OPSET,
  replaceInitializers,
} from '@ferry/convert';
import { onnx, openModel, pickle, type WriteProgress, writeAll, writeFileAtomic } from '@ferry/formats';
import type { Command, ParsedArgs } from '../command.js';
import { formatBytes, formatCount } from '../format-table.js';
import { convertOnnxToFp16, FP16_OPTIONS } from './convert-fp16.js';
import { type CliIO, printJson } from '../io.js';
import { ProgressBar } from '../progress.js';
import { UsageError } from '../usage-error.js';

/**
 * One way `ferry convert` can run. The mode is picked from the options; adding one (e.g.
 * `--weights W.safetensors` to replace an ONNX graph's initializers) is a new entry in MODES.
 */
interface ConvertMode {
  /** True when this mode handles the given options. */
  matches(args: ParsedArgs): boolean;
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
  matches: () => true,
  async run(input, output, _args, io) {
    const started = process.hrtime.bigint();
    const progress = progressFor(io, 'convert');
    let result: ConvertResult;
    try {
      result = await convertToSafetensors(input, output, { onProgress: progress.onProgress });
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
  matches: (args) => typeof args.values.weights === 'string',
  async run(input, output, args, io) {
    const started = process.hrtime.bigint();
    const weights = await openModel(args.values.weights as string);
    const bar = new ProgressBar(io, 'convert', weights.tensors.length);
    try {
      const result = await replaceInitializers(input, weights.tensors, output, {
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
 * `convert SAVEDMODEL_DIR -o model.onnx [--tag serve] [--signature NAME]`: one signature's graph,
 * variables frozen, as an ONNX model whose input and output names are the signature's keys.
 */
const savedModelToOnnx: ConvertMode = {
  matches: (args) => {
    const [input] = args.positionals;
    const output = args.values.output;
    return (
      typeof input === 'string' &&
      typeof output === 'string' &&
      output.toLowerCase().endsWith('.onnx') &&
      existsSync(join(input, 'saved_model.pb'))
    );
  },
  async run(input, output, args) {
    const started = process.hrtime.bigint();
    const tag = typeof args.values.tag === 'string' ? args.values.tag : DEFAULT_TAG;
    const signature = typeof args.values.signature === 'string' ? args.values.signature : DEFAULT_SIGNATURE;
    const model = await convertSavedModelToOnnxModel(input, { tag, signature });
    const bytes = onnx.encodeModel(model);
    await writeFileAtomic(output, (file) => writeAll(file, bytes));
    return {
      input,
      output,
      format: 'savedmodel',
      tensors: model.graph?.initializer?.length ?? 0,
      bytes: bytes.length,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      tag,
      signature,
      nodes: model.graph?.node?.length ?? 0,
      opset: ONNX_OPSET,
      inputs: (model.graph?.input ?? []).map((i) => i.name),
      outputs: (model.graph?.output ?? []).map((o) => o.name),
    };
  },
};

/** A pickle (PROTO 2-5), a compressed joblib stream (any of joblib's six), or XGBoost's JSON/UBJSON (`{`). */
function looksLikeEstimator(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    const fd = openSync(path, 'r');
    try {
      const head = new Uint8Array(8);
      readSync(fd, head, 0, 8, 0);
      return (
        (head[0] === 0x80 && head[1]! >= 2) || head[0] === 0x7b || pickle.compression(head) !== undefined
      );
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/**
 * `convert MODEL.joblib|.pkl|.json|.ubj -o model.onnx`: a fitted scikit-learn estimator (from
 * the inert pickle graph, nothing is run) or an XGBoost model as ONNX-ML.
 */
const sklearnToOnnx: ConvertMode = {
  matches: (args) => {
    const [input] = args.positionals;
    const output = args.values.output;
    return (
      typeof input === 'string' &&
      typeof output === 'string' &&
      output.toLowerCase().endsWith('.onnx') &&
      args.values.weights === undefined &&
      looksLikeEstimator(input)
    );
  },
  async run(input, output) {
    const started = process.hrtime.bigint();
    const { bytes, summary, model } = await convertSklearnToOnnx(input);
    await writeFileAtomic(output, (file) => writeAll(file, bytes));
    return {
      input,
      output,
      format: summary.source,
      tensors: model.graph?.initializer?.length ?? 0,
      bytes: bytes.length,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      estimator: summary.estimator,
      kind: summary.kind,
      features: summary.features,
      nodes: summary.nodes,
      ops: summary.ops,
      inputs: summary.inputs,
      outputs: summary.outputs,
      tree: summary.tree,
    };
  },
};

/** Checked in order; the last one is the default. */
const MODES: readonly ConvertMode[] = [onnxWithWeights, savedModelToOnnx, sklearnToOnnx, toSafetensors];

export const convertCommand: Command = {
  name: 'convert',
  summary:
    'convert a model to safetensors, streaming tensor by tensor (the output appears whole or not at all)',
  usage:
    'convert IN -o OUT.safetensors | convert MODEL.onnx --weights W.safetensors -o OUT.onnx | convert MODEL.onnx --fp16 [--keep-io-types] -o OUT.onnx | convert SAVEDMODEL_DIR -o OUT.onnx [--tag serve] [--signature NAME] | convert MODEL.joblib|.pkl|XGB.json|XGB.ubj -o OUT.onnx',
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
  },
  async run(args, io) {
    // --fp16 rewrites the graph itself (float16 weights and compute) and reports accuracy
    if (args.values.fp16) return convertOnnxToFp16(args, io);
    const [input, ...extra] = args.positionals;
    if (!input || extra.length > 0) throw new UsageError('convert takes one input path');
    const output = args.values.output;
    if (typeof output !== 'string' || output === '') throw new UsageError('convert needs -o OUT');
    const mode = MODES.find((m) => m.matches(args))!;
    const summary = await mode.run(input, output, args, io);
    if (args.values.json) printJson(io, summary);
    else io.stdout.write(`${describe(summary)}\n`);
    return 0;
  },
};

function describe(summary: ConvertSummary): string {
  const shared = Object.keys((summary.shared as Record<string, string> | undefined) ?? {}).length;
  const sharedNote = shared > 0 ? ` (${formatCount(shared)} tied names recorded in __metadata__)` : '';
  const graphNote =
    typeof summary.signature === 'string'
      ? `; signature ${summary.signature}: ${formatCount(summary.nodes as number)} ONNX nodes, opset ${summary.opset}`
      : '';
  const estimatorNote =
    typeof summary.estimator === 'string'
      ? `; ${summary.estimator} (${summary.kind}, ${summary.features} features) as ${formatCount(summary.nodes as number)} ONNX nodes, outputs ${(summary.outputs as string[]).join(', ')}`
      : '';
  return `${summary.output}: ${formatCount(summary.tensors)} tensors, ${formatBytes(summary.bytes)} from ${summary.input} (${summary.format}) in ${summary.seconds.toFixed(2)} s${sharedNote}${graphNote}${estimatorNote}`;
}
