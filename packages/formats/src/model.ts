import type { ByteSource } from './tensor/byte-source.js';
import type { TensorRef } from './tensor/tensor-ref.js';

/** Every format ferry reads. A name is what `detect` answers and what `inspect --json` prints. */
export type FormatName =
  | 'safetensors'
  | 'onnx'
  | 'savedmodel'
  | 'tfgraph'
  | 'gguf'
  | 'npy'
  | 'npz'
  | 'pytorch'
  | 'pytorch-legacy'
  | 'torchscript'
  | 'pickle'
  | 'joblib'
  | 'lightgbm';

/** A graph input or output: dims are numbers, symbolic names (`batch`), or -1 when unknown. */
export interface TensorSpec {
  readonly name: string;
  /** A ferry dtype name where one exists, else the format's own name (`STRING`, `DT_RESOURCE`). */
  readonly dtype: string;
  readonly shape: readonly (number | string)[] | null;
}

export interface Signature {
  readonly key: string;
  readonly method?: string;
  readonly inputs: readonly (TensorSpec & { readonly tensorName?: string })[];
  readonly outputs: readonly (TensorSpec & { readonly tensorName?: string })[];
}

/** A tensor the file holds that ferry cannot hand out as dense data (quantized blocks, strings, objects). */
export interface OpaqueTensor {
  readonly name: string;
  /** The format's own type name: `Q4_K`, `STRING`, `object`. */
  readonly type: string;
  readonly shape: readonly number[];
  readonly byteLength: number;
  readonly reason: string;
}

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** Something a reader noticed that a user should know: a scan finding, a suspicious op, an odd layout. */
export interface Finding {
  readonly severity: Severity;
  readonly rule: string;
  readonly message: string;
  /** Where: an archive member, a node name, a byte offset. */
  readonly location?: string;
}

/** A model file or folder opened for reading; tensors are references, nothing is loaded yet. */
export interface OpenedModel {
  readonly format: FormatName;
  readonly path: string;
  readonly tensors: readonly TensorRef[];
  readonly opaque?: readonly OpaqueTensor[];
  /** String key/values: safetensors `__metadata__`, ONNX metadata_props, GGUF scalars. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly inputs?: readonly TensorSpec[];
  readonly outputs?: readonly TensorSpec[];
  readonly signatures?: readonly Signature[];
  /** Format-specific facts for inspect (ONNX opsets and op histogram, GGUF version...), JSON-safe. */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly findings?: readonly Finding[];
  close(): Promise<void>;
}

/** What a format's `detect` gets to look at: never the extension alone. */
export interface Probe {
  readonly path: string;
  readonly isDirectory: boolean;
  /** File size, or 0 for a folder. */
  readonly size: number;
  /** The first bytes of a file (up to PROBE_HEAD_BYTES); empty for a folder. */
  readonly head: Uint8Array;
  /** A folder's entry names (one level); empty for a file. */
  readonly entries: readonly string[];
  /** The open file, for formats that must look further than the head (zip listings). */
  readonly source: ByteSource | null;
}

export interface OpenOptions {
  /** Lift a scanner's refusal to show a file's contents (still executes nothing). */
  readonly unsafeInspect?: boolean;
}

/** One format: how to recognise it and how to open it. Add a new one to `formats.ts`. */
export interface FormatHandler {
  readonly name: FormatName;
  detect(probe: Probe): boolean | Promise<boolean>;
  open(path: string, options: OpenOptions): Promise<OpenedModel>;
}
