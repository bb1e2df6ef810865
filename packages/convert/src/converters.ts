import { open, stat } from 'node:fs/promises';
import { detectFormat, FORMAT_HANDLERS, type FormatName, isFerryError, type TensorRef } from '@ferry/formats';
import { encodeModel, type OnnxModel } from './formats.js';
import { type ReplaceOptions, type ReplaceResult, replaceInitializers } from './replace-weights.js';
import { convertSavedModelToOnnxModel, ONNX_OPSET } from './savedmodel-to-onnx/convert.js';
import { GRAPHDEF_SIGNATURE } from './savedmodel-to-onnx/graph-signature.js';
import { convertGraphDefToOnnxModel } from './savedmodel-to-onnx/graphdef.js';
import { DEFAULT_SIGNATURE, DEFAULT_TAG } from './savedmodel-to-onnx/select.js';
import { convertSklearnToOnnx } from './sklearn/convert.js';
import { type ConvertOptions, type ConvertResult, convertToSafetensors } from './to-safetensors.js';

/**
 * What ferry converts from: a format @ferry/formats detects, or XGBoost's own model file
 * (save_model's JSON or UBJSON), which is not a model format formats reads tensors from.
 */
export type ConvertSource = FormatName | 'xgboost';
export type ConvertTarget = 'onnx' | 'safetensors';

interface ConverterInfo {
  readonly name: string;
  readonly from: readonly ConvertSource[];
  readonly to: ConvertTarget;
  readonly description: string;
}

/** An ONNX model built in memory; `details` are converter-specific facts (signature, estimator, ...). */
export interface ConvertedModel {
  readonly model: OnnxModel;
  readonly bytes: Uint8Array;
  /** The source format as reported (`savedmodel`, `sklearn`, `xgboost`, `lightgbm`). */
  readonly format: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface ModelConvertOptions {
  /** SavedModel: the MetaGraph tag set, comma-separated (default serve). */
  readonly tag?: string;
  /** SavedModel: the signature to convert (default serving_default). */
  readonly signature?: string;
  /** Frozen GraphDef: the tensors fed (`X:0`); default the Placeholders the outputs reach. */
  readonly inputs?: readonly string[];
  /** Frozen GraphDef: the tensors fetched (`pred:0`); default the nodes nobody consumes. */
  readonly outputs?: readonly string[];
}

/** A converter that builds the whole ONNX model in memory (the CLI writes it; serve caches it). */
export interface ModelConverter extends ConverterInfo {
  readonly kind: 'model';
  convert(input: string, options?: ModelConvertOptions): Promise<ConvertedModel>;
}

/** Streams every tensor of any model ferry reads into one safetensors file. */
export interface TensorsConverter extends ConverterInfo {
  readonly kind: 'tensors';
  convert(input: string, output: string, options?: ConvertOptions): Promise<ConvertResult>;
}

/** An ONNX graph written again with its initializers taken from another model's tensors. */
export interface WeightsConverter extends ConverterInfo {
  readonly kind: 'weights';
  convert(
    input: string,
    weights: readonly TensorRef[],
    output: string,
    options?: ReplaceOptions,
  ): Promise<ReplaceResult>;
}

export type Converter = ModelConverter | TensorsConverter | WeightsConverter;

export const SAVEDMODEL_TO_ONNX: ModelConverter = {
  kind: 'model',
  name: 'savedmodel-to-onnx',
  from: ['savedmodel'],
  to: 'onnx',
  description: "one SavedModel signature's graph, variables frozen, as an ONNX model (no TensorFlow needed)",
  async convert(input, options = {}) {
    const tag = options.tag ?? DEFAULT_TAG;
    const signature = options.signature ?? DEFAULT_SIGNATURE;
    const model = await convertSavedModelToOnnxModel(input, { tag, signature });
    const bytes = encodeModel(model);
    return {
      model,
      bytes,
      format: 'savedmodel',
      details: {
        tag,
        signature,
        nodes: model.graph?.node?.length ?? 0,
        opset: ONNX_OPSET,
        inputs: (model.graph?.input ?? []).map((i) => i.name),
        outputs: (model.graph?.output ?? []).map((o) => o.name),
      },
    };
  },
};

export const TFGRAPH_TO_ONNX: ModelConverter = {
  kind: 'model',
  name: 'tfgraph-to-onnx',
  from: ['tfgraph'],
  to: 'onnx',
  description:
    "a frozen TensorFlow GraphDef (tf2onnx's input) as an ONNX model, inputs and outputs named or guessed (no TensorFlow needed)",
  async convert(input, options = {}) {
    const model = await convertGraphDefToOnnxModel(input, {
      ...(options.inputs && { inputs: options.inputs }),
      ...(options.outputs && { outputs: options.outputs }),
    });
    const bytes = encodeModel(model);
    return {
      model,
      bytes,
      format: 'tfgraph',
      details: {
        signature: GRAPHDEF_SIGNATURE,
        nodes: model.graph?.node?.length ?? 0,
        opset: ONNX_OPSET,
        inputs: (model.graph?.input ?? []).map((i) => i.name),
        outputs: (model.graph?.output ?? []).map((o) => o.name),
      },
    };
  },
};

export const SKLEARN_TO_ONNX: ModelConverter = {
  kind: 'model',
  name: 'sklearn-to-onnx',
  from: ['pickle', 'joblib', 'xgboost', 'lightgbm'],
  to: 'onnx',
  description:
    'a fitted scikit-learn, XGBoost or LightGBM estimator (from the inert pickle graph), or an XGBoost or LightGBM model file, as ONNX-ML',
  async convert(input) {
    const { bytes, summary, model } = await convertSklearnToOnnx(input);
    return {
      model,
      bytes,
      format: summary.source,
      details: {
        estimator: summary.estimator,
        kind: summary.kind,
        features: summary.features,
        nodes: summary.nodes,
        ops: summary.ops,
        inputs: summary.inputs,
        outputs: summary.outputs,
        tree: summary.tree,
      },
    };
  },
};

export const ONNX_WEIGHTS: WeightsConverter = {
  kind: 'weights',
  name: 'onnx-weights',
  from: ['onnx'],
  to: 'onnx',
  description:
    "an ONNX model's initializers replaced by another model's tensors (names, dtypes, shapes checked)",
  convert: replaceInitializers,
};

export const TO_SAFETENSORS: TensorsConverter = {
  kind: 'tensors',
  name: 'to-safetensors',
  // A LightGBM text model holds trees, not tensors.
  from: FORMAT_HANDLERS.map((h) => h.name).filter((n) => n !== 'lightgbm'),
  to: 'safetensors',
  description: 'every tensor of any model ferry reads, streamed into one safetensors file',
  convert: convertToSafetensors,
};

/** Every conversion ferry does, the one table the CLI's `convert` and serve's converting backends use. */
export const CONVERTERS: readonly Converter[] = [
  SAVEDMODEL_TO_ONNX,
  TFGRAPH_TO_ONNX,
  SKLEARN_TO_ONNX,
  ONNX_WEIGHTS,
  TO_SAFETENSORS,
];

/** The converter from `source` to `target` for a plain conversion (not `--weights`); undefined when none. */
export function converterFor(
  source: ConvertSource,
  target: ConvertTarget,
): ModelConverter | TensorsConverter | undefined {
  return CONVERTERS.find(
    (c): c is ModelConverter | TensorsConverter =>
      c.kind !== 'weights' && c.to === target && c.from.includes(source),
  );
}

/**
 * The source format of `path`: @ferry/formats' detection, or `xgboost` for a file formats does not
 * recognise that starts with `{` (XGBoost's JSON, and its UBJSON, whose top-level object opens with
 * the same byte). Errors other than "unknown format" (a missing file) are formats' own.
 */
export async function detectSource(path: string): Promise<ConvertSource> {
  try {
    return await detectFormat(path);
  } catch (error) {
    if (isFerryError(error) && error.code === 'FERRY_UNKNOWN_FORMAT' && (await startsWithBrace(path)))
      return 'xgboost';
    throw error;
  }
}

async function startsWithBrace(path: string): Promise<boolean> {
  if (!(await stat(path)).isFile()) return false;
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(1);
    await handle.read(head, 0, 1, 0);
    return head[0] === 0x7b;
  } finally {
    await handle.close();
  }
}
