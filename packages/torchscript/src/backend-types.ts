/**
 * The shapes of @ferry/serve's Backend seam (packages/serve/src/backends/backend.ts and
 * tensor/tensor.ts), restated here so this package does not depend on the server: TypeScript
 * compares structurally, so torchscriptBackend is a serve Backend as it stands.
 */

/** The Open Inference Protocol datatypes (serve's tensor/datatype.ts DATATYPES). */
export type Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'BF16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

export interface NumericTensor {
  readonly datatype: Exclude<Datatype, 'BYTES'>;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

export interface BytesTensor {
  readonly datatype: 'BYTES';
  readonly shape: readonly number[];
  readonly strings: readonly Uint8Array[];
}

export type Tensor = NumericTensor | BytesTensor;

/** A tensor's declared metadata; -1 marks a dimension that varies. */
export interface TensorMetadata {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}

/** One entry of config.yaml inputs:/outputs: (serve's TensorOverride). */
export interface TensorDeclaration {
  readonly name: string;
  readonly datatype?: Datatype;
  readonly shape?: readonly number[];
}

export interface LoadedModel {
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
  createInstance(): Promise<ModelInstance>;
  close(): Promise<void>;
}

export interface ModelInstance {
  run(inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]): Promise<Map<string, Tensor>>;
  close(): Promise<void>;
}
