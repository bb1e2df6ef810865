import type { Datatype } from './datatype.js';
import type { TensorOverride } from './model-config.js';
import type { Tensor } from './tensor.js';

/**
 * The seam between the server and whatever runs a model. A new runtime (TorchScript through a
 * native libtorch addon, JavaScript handlers, scikit-learn models converted to ONNX-ML) is a
 * new file exporting a Backend, listed once in serve's backends/index.ts; nothing else changes.
 * Backends compile against this package alone, never the server's internals (as Triton's
 * backends compile against tritonbackend.h).
 */
export interface Backend {
  /** Name used by config.yaml `backend:`. */
  readonly name: string;
  /** Platform string the protocol reports (inference_rest.md "Platforms"), e.g. onnx_onnxv1. */
  readonly platform: string;
  /** File names this backend serves inside a version folder, in order of preference. */
  readonly fileNames: readonly string[];
  /**
   * Refuses an input the runtime would silently change (called before the request is queued,
   * so one bad request never fails a batch it shares). Throws FERRY_SERVE_INPUT.
   */
  checkTensor?(name: string, tensor: Tensor): void;
  /** Loads the model once (reading the file, checking it); instances come from the result. */
  load(path: string, options: BackendOptions): Promise<LoadedModel>;
  /**
   * For files with several entry points (a SavedModel's signatures): each one, served as its own
   * model, or with the reason it cannot be. Absent = the file is one model.
   */
  entries?(path: string, options: EntryOptions): Promise<EntryPoint[]>;
  /** What polling compares to decide a reload; absent = size and mtime of `path`. */
  fingerprint?(path: string): Promise<string>;
}

export interface EntryOptions {
  /** Where converted models are cached (ServeOptions.cacheDir). */
  readonly cacheDir?: string;
  /** config.yaml's tensors: what a converting backend for files that name none (GraphDefs) converts with. */
  readonly inputs?: readonly TensorOverride[];
  readonly outputs?: readonly TensorOverride[];
}

export interface EntryPoint {
  /** The entry's own name (a signature key). */
  readonly key: string;
  /** Served under the model folder's name alone (serving_default); others get `<model>__<key>`. */
  readonly primary: boolean;
  /** Set when the entry cannot be served: a one-line reason. */
  readonly skipped?: string;
}

export interface BackendOptions {
  /** Threads one execution may use (ONNX Runtime intra-op); undefined = the backend's default. */
  readonly intraOpThreads?: number;
  /** Threads for parallel branches of one graph (ONNX Runtime inter-op). */
  readonly interOpThreads?: number;
  /** Whether idle pool threads busy-wait for the next parallel section (default false). */
  readonly allowSpinning?: boolean;
  /** config.yaml's tensors, for backends whose files carry no signature (TorchScript). */
  readonly inputs?: readonly TensorOverride[];
  readonly outputs?: readonly TensorOverride[];
  readonly maxBatchSize?: number;
  /** The config.yaml the overrides came from, for error messages. */
  readonly configPath?: string;
  /** Which entry point to load (Backend.entries); undefined = the primary one. */
  readonly entry?: string;
  /** Where converted models are cached (converting backends). */
  readonly cacheDir?: string;
}

/** A tensor's declared metadata; -1 marks a dimension that varies. */
export interface TensorMetadata {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  /**
   * The rank is unknown (a SavedModel's unknown_rank, an ONNX value without a shape): any shape
   * is accepted, `shape` is [-1] and the version does not batch.
   */
  readonly anyRank?: boolean;
}

export interface LoadedModel {
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
  /** One more independent executor (an ONNX Runtime session): instances run concurrently. */
  createInstance(): Promise<ModelInstance>;
  /**
   * An executor that computes on the calling (event loop) thread, for models whose runs cost
   * less than handing them to another thread (instances.placement). Absent: always a worker.
   */
  createEventLoopInstance?(): Promise<ModelInstance>;
  /** Bytes one instance loads (the model file), so placement can skip timing very large models. */
  readonly modelBytes?: number;
  /** Releases what load() holds beyond the instances. */
  close(): Promise<void>;
}

export interface ModelInstance {
  /** Runs the model once; `outputs` names what to return. Inputs are already validated. */
  run(inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]): Promise<Map<string, Tensor>>;
  close(): Promise<void>;
}
