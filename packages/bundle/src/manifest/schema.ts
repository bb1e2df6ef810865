import type { FormatName } from '@ferry/formats';

// Keyed by FormatName so that a format @ferry/formats adds is a compile error here until it is
// listed (the array copy of this list once missed LightGBM).
const FORMAT_TABLE: Record<FormatName, true> = {
  safetensors: true,
  onnx: true,
  savedmodel: true,
  gguf: true,
  npy: true,
  npz: true,
  pytorch: true,
  'pytorch-legacy': true,
  torchscript: true,
  pickle: true,
  joblib: true,
  lightgbm: true,
  tfgraph: true,
};

/** The model formats a bundle may declare: every format @ferry/formats names. */
export const MODEL_FORMATS = Object.keys(FORMAT_TABLE) as readonly FormatName[];

// A bundle's input/output schema uses the server's own datatype list (Open Inference Protocol v2).
import type { Datatype, ServingKnobs } from '@ferry/serving-api';
export { DATATYPES, type Datatype } from '@ferry/serving-api';

/** A model in the bundle: a file or folder of the project, or a registry reference resolved later. */
export type BundleModel =
  | { readonly name: string; readonly format: FormatName; readonly path: string }
  | {
      readonly name: string;
      readonly format: FormatName;
      /** `models:/NAME@ALIAS` or `models:/NAME/VERSION`, as MLflow writes model URIs. */
      readonly ref: string;
      readonly registryModel: string;
      readonly alias?: string;
      readonly registryVersion?: number;
    };

export interface TensorSchema {
  readonly name: string;
  readonly datatype: Datatype;
  /** -1 for a dimension of any size. */
  readonly shape: readonly number[];
  readonly description?: string;
}

export interface BundleHandler {
  /** A .js/.mjs/.ts/.mts module exporting `preprocess` and/or `postprocess`. */
  readonly module: string;
  /** A package-lock.json (with its package.json beside it) naming the handler's npm dependencies. */
  readonly lockfile?: string;
}

/** Triton's model configuration knobs, with the field names of ferry serve's config.yaml (the schema in @ferry/serving-api). */
export type ServingConfig = ServingKnobs;

/** A validated ferry.yaml. Paths are relative to the project folder, with forward slashes. */
export interface BundleSpec {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly license?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly models: readonly BundleModel[];
  readonly handler?: BundleHandler;
  readonly inputs: readonly TensorSchema[];
  readonly outputs: readonly TensorSchema[];
  readonly serving: ServingConfig;
  readonly docs: readonly string[];
  readonly files: readonly string[];
}

/** The file name ferry looks for in a project folder. */
export const SPEC_FILE = 'ferry.yaml';
