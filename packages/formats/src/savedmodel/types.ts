/**
 * TensorFlow's graph as ferry hands it on: typed, plain objects decoded from saved_model.pb.
 * Field names follow TensorFlow's protos in camelCase; DataType values stay TensorFlow's numbers
 * (`tfDtypeName`, `ferryDtypeOfTf` turn them into names). `bytes` fields are views of the file.
 * Graph-to-ONNX conversion (issue 11) builds on these.
 */

/** Dims are -1 where unknown; `unknownRank` means even the number of dims is unknown (dims empty). */
export interface TfShape {
  readonly dims: readonly number[];
  readonly unknownRank: boolean;
}

export interface TfTensor {
  readonly dtype: number;
  readonly shape: TfShape;
  readonly versionNumber: number;
  /** Tensor::AsProtoTensorContent bytes (little-endian, C order) when the producer used them. */
  readonly tensorContent: Uint8Array | null;
  readonly halfVal: readonly number[];
  readonly floatVal: readonly number[];
  readonly doubleVal: readonly number[];
  readonly intVal: readonly number[];
  readonly stringVal: readonly Uint8Array[];
  readonly scomplexVal: readonly number[];
  readonly int64Val: readonly bigint[];
  readonly boolVal: readonly boolean[];
  readonly dcomplexVal: readonly number[];
  readonly uint32Val: readonly number[];
  readonly uint64Val: readonly bigint[];
  /** DT_FLOAT8_*: one byte per value. */
  readonly float8Val: Uint8Array | null;
}

export interface TfNameAttrList {
  readonly name: string;
  readonly attr: Readonly<Record<string, TfAttrValue>>;
}

export interface TfAttrList {
  readonly s: readonly Uint8Array[];
  readonly i: readonly bigint[];
  readonly f: readonly number[];
  readonly b: readonly boolean[];
  readonly type: readonly number[];
  readonly shape: readonly TfShape[];
  readonly tensor: readonly TfTensor[];
  readonly func: readonly TfNameAttrList[];
}

/** AttrValue's oneof, discriminated by `kind` (the proto field name); `none` when unset. */
export type TfAttrValue =
  | { readonly kind: 's'; readonly value: Uint8Array }
  | { readonly kind: 'i'; readonly value: bigint }
  | { readonly kind: 'f'; readonly value: number }
  | { readonly kind: 'b'; readonly value: boolean }
  | { readonly kind: 'type'; readonly value: number }
  | { readonly kind: 'shape'; readonly value: TfShape }
  | { readonly kind: 'tensor'; readonly value: TfTensor }
  | { readonly kind: 'list'; readonly value: TfAttrList }
  | { readonly kind: 'func'; readonly value: TfNameAttrList }
  | { readonly kind: 'placeholder'; readonly value: string }
  | { readonly kind: 'none' };

export interface TfNodeDef {
  readonly name: string;
  readonly op: string;
  /** `node`, `node:1`, `^control_dep`; inside functions `node:out_arg:0` or an argument name. */
  readonly inputs: readonly string[];
  readonly device: string;
  readonly attr: Readonly<Record<string, TfAttrValue>>;
}

export interface TfArgDef {
  readonly name: string;
  readonly type: number;
  readonly typeAttr: string;
  readonly numberAttr: string;
  readonly typeListAttr: string;
  readonly isRef: boolean;
}

export interface TfAttrDef {
  readonly name: string;
  readonly type: string;
  readonly defaultValue: TfAttrValue | null;
}

export interface TfOpDef {
  readonly name: string;
  readonly inputArgs: readonly TfArgDef[];
  readonly outputArgs: readonly TfArgDef[];
  readonly controlOutputs: readonly string[];
  readonly attrs: readonly TfAttrDef[];
  readonly isStateful: boolean;
}

export interface TfFunctionDef {
  /** The function's name (its signature's name): what call nodes' `f` attr or op names. */
  readonly name: string;
  readonly signature: TfOpDef;
  readonly nodes: readonly TfNodeDef[];
  /** Output arg name -> `node:out:index` inside the function. */
  readonly ret: Readonly<Record<string, string>>;
  readonly controlRet: Readonly<Record<string, string>>;
  readonly attr: Readonly<Record<string, TfAttrValue>>;
  /** Argument index -> that argument's attributes (`_output_shapes`, `_user_specified_name`). */
  readonly argAttr: Readonly<Record<string, Readonly<Record<string, TfAttrValue>>>>;
}

export interface TfVersions {
  readonly producer: number;
  readonly minConsumer: number;
  readonly badConsumers: readonly number[];
}

export interface TfGraphDef {
  readonly nodes: readonly TfNodeDef[];
  readonly functions: readonly TfFunctionDef[];
  readonly versions: TfVersions | null;
}

/** A signature's tensor: dense (`name`), COO sparse, or composite (components). */
export interface TfTensorInfo {
  readonly encoding: 'dense' | 'coo_sparse' | 'composite' | 'none';
  readonly name: string;
  readonly cooSparse?: {
    readonly valuesTensorName: string;
    readonly indicesTensorName: string;
    readonly denseShapeTensorName: string;
  };
  readonly components?: readonly TfTensorInfo[];
  readonly dtype: number;
  /** null when the TensorInfo has no shape at all. */
  readonly shape: TfShape | null;
}

export interface TfSignatureDef {
  readonly key: string;
  readonly methodName: string;
  readonly inputs: Readonly<Record<string, TfTensorInfo>>;
  readonly outputs: Readonly<Record<string, TfTensorInfo>>;
}

export interface TfSaverDef {
  readonly filenameTensorName: string;
  readonly saveTensorName: string;
  readonly restoreOpName: string;
  readonly sharded: boolean;
  readonly version: number;
}

export type TfSavedObjectKind =
  | 'user_object'
  | 'asset'
  | 'function'
  | 'variable'
  | 'bare_concrete_function'
  | 'constant'
  | 'resource'
  | 'other';

export interface TfSavedObject {
  readonly kind: TfSavedObjectKind;
  readonly children: readonly { readonly nodeId: number; readonly localName: string }[];
  /** user_object: the registered class identifier (`_generic_user_object`, `trackable_dict_wrapper`). */
  readonly identifier?: string;
  readonly variable?: {
    readonly dtype: number;
    readonly shape: TfShape;
    readonly name: string;
    readonly trainable: boolean;
  };
  /** function: its concrete functions' names; bare_concrete_function: the one name. */
  readonly concreteFunctions?: readonly string[];
  readonly assetFileDefIndex?: number;
  readonly constantOperation?: string;
}

export interface TfObjectGraph {
  readonly nodes: readonly TfSavedObject[];
  /** Concrete function name -> node ids of the SavedObjects appended to its inputs (captured variables). */
  readonly concreteFunctions: Readonly<Record<string, { readonly boundInputs: readonly number[] }>>;
}

export interface TfMetaGraph {
  readonly tags: readonly string[];
  readonly tensorflowVersion: string;
  readonly tensorflowGitVersion: string;
  readonly metaGraphVersion: string;
  readonly strippedOpList: readonly TfOpDef[];
  readonly graph: TfGraphDef;
  readonly saver: TfSaverDef | null;
  readonly signatures: readonly TfSignatureDef[];
  readonly assets: readonly { readonly filename: string; readonly tensorName: string }[];
  readonly objectGraph: TfObjectGraph | null;
}

export interface TfSavedModel {
  readonly schemaVersion: number;
  readonly metaGraphs: readonly TfMetaGraph[];
}
