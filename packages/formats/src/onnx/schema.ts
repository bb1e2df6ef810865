/**
 * Every message of onnx/onnx.proto (onnx 1.12, IR version 8, as Debian's python3-onnx ships it),
 * field numbers exactly as that file defines them. `[packed = true]` there is `packed` here;
 * the other repeated numbers are proto2 and go out unpacked, as the reference writer does.
 * Fields added by later ONNX versions (FunctionProto.attribute_proto = 11, ...) are kept as
 * unknown fields and re-encoded unchanged.
 */
import type { MessageSchema } from '../protobuf/schema.js';

export const StringStringEntryProto: MessageSchema = {
  name: 'StringStringEntryProto',
  fields: { 1: { name: 'key', type: 'string' }, 2: { name: 'value', type: 'string' } },
};

export const OperatorSetIdProto: MessageSchema = {
  name: 'OperatorSetIdProto',
  fields: { 1: { name: 'domain', type: 'string' }, 2: { name: 'version', type: 'int64' } },
};

export const TensorSegment: MessageSchema = {
  name: 'TensorProto.Segment',
  fields: { 1: { name: 'begin', type: 'int64' }, 2: { name: 'end', type: 'int64' } },
};

export const TensorProto: MessageSchema = {
  name: 'TensorProto',
  fields: {
    1: { name: 'dims', type: 'int64', repeated: true },
    2: { name: 'data_type', type: 'int32' },
    3: { name: 'segment', type: TensorSegment },
    4: { name: 'float_data', type: 'float', repeated: true, packed: true },
    5: { name: 'int32_data', type: 'int32', repeated: true, packed: true },
    6: { name: 'string_data', type: 'bytes', repeated: true },
    7: { name: 'int64_data', type: 'int64', repeated: true, packed: true },
    8: { name: 'name', type: 'string' },
    9: { name: 'raw_data', type: 'bytes' },
    10: { name: 'double_data', type: 'double', repeated: true, packed: true },
    11: { name: 'uint64_data', type: 'uint64', repeated: true, packed: true },
    12: { name: 'doc_string', type: 'string' },
    13: { name: 'external_data', type: StringStringEntryProto, repeated: true },
    14: { name: 'data_location', type: 'enum' },
  },
};

export const SparseTensorProto: MessageSchema = {
  name: 'SparseTensorProto',
  fields: {
    1: { name: 'values', type: TensorProto },
    2: { name: 'indices', type: TensorProto },
    3: { name: 'dims', type: 'int64', repeated: true },
  },
};

export const TensorShapeDimension: MessageSchema = {
  name: 'TensorShapeProto.Dimension',
  fields: {
    1: { name: 'dim_value', type: 'int64' },
    2: { name: 'dim_param', type: 'string' },
    3: { name: 'denotation', type: 'string' },
  },
};

export const TensorShapeProto: MessageSchema = {
  name: 'TensorShapeProto',
  fields: { 1: { name: 'dim', type: TensorShapeDimension, repeated: true } },
};

export const TypeProtoTensor: MessageSchema = {
  name: 'TypeProto.Tensor',
  fields: { 1: { name: 'elem_type', type: 'int32' }, 2: { name: 'shape', type: TensorShapeProto } },
};

export const TypeProtoSequence: MessageSchema = {
  name: 'TypeProto.Sequence',
  fields: { 1: { name: 'elem_type', type: () => TypeProto } },
};

export const TypeProtoMap: MessageSchema = {
  name: 'TypeProto.Map',
  fields: { 1: { name: 'key_type', type: 'int32' }, 2: { name: 'value_type', type: () => TypeProto } },
};

export const TypeProtoOptional: MessageSchema = {
  name: 'TypeProto.Optional',
  fields: { 1: { name: 'elem_type', type: () => TypeProto } },
};

export const TypeProtoSparseTensor: MessageSchema = {
  name: 'TypeProto.SparseTensor',
  fields: { 1: { name: 'elem_type', type: 'int32' }, 2: { name: 'shape', type: TensorShapeProto } },
};

export const TypeProto: MessageSchema = {
  name: 'TypeProto',
  fields: {
    1: { name: 'tensor_type', type: TypeProtoTensor },
    4: { name: 'sequence_type', type: TypeProtoSequence },
    5: { name: 'map_type', type: TypeProtoMap },
    6: { name: 'denotation', type: 'string' },
    8: { name: 'sparse_tensor_type', type: TypeProtoSparseTensor },
    9: { name: 'optional_type', type: TypeProtoOptional },
  },
};

export const ValueInfoProto: MessageSchema = {
  name: 'ValueInfoProto',
  fields: {
    1: { name: 'name', type: 'string' },
    2: { name: 'type', type: TypeProto },
    3: { name: 'doc_string', type: 'string' },
  },
};

export const AttributeProto: MessageSchema = {
  name: 'AttributeProto',
  fields: {
    1: { name: 'name', type: 'string' },
    2: { name: 'f', type: 'float' },
    3: { name: 'i', type: 'int64' },
    4: { name: 's', type: 'bytes' },
    5: { name: 't', type: TensorProto },
    6: { name: 'g', type: () => GraphProto },
    7: { name: 'floats', type: 'float', repeated: true },
    8: { name: 'ints', type: 'int64', repeated: true },
    9: { name: 'strings', type: 'bytes', repeated: true },
    10: { name: 'tensors', type: TensorProto, repeated: true },
    11: { name: 'graphs', type: () => GraphProto, repeated: true },
    13: { name: 'doc_string', type: 'string' },
    14: { name: 'tp', type: TypeProto },
    15: { name: 'type_protos', type: TypeProto, repeated: true },
    20: { name: 'type', type: 'enum' },
    21: { name: 'ref_attr_name', type: 'string' },
    22: { name: 'sparse_tensor', type: SparseTensorProto },
    23: { name: 'sparse_tensors', type: SparseTensorProto, repeated: true },
  },
};

export const NodeProto: MessageSchema = {
  name: 'NodeProto',
  fields: {
    1: { name: 'input', type: 'string', repeated: true },
    2: { name: 'output', type: 'string', repeated: true },
    3: { name: 'name', type: 'string' },
    4: { name: 'op_type', type: 'string' },
    5: { name: 'attribute', type: AttributeProto, repeated: true },
    6: { name: 'doc_string', type: 'string' },
    7: { name: 'domain', type: 'string' },
  },
};

export const TensorAnnotation: MessageSchema = {
  name: 'TensorAnnotation',
  fields: {
    1: { name: 'tensor_name', type: 'string' },
    2: { name: 'quant_parameter_tensor_names', type: StringStringEntryProto, repeated: true },
  },
};

export const GraphProto: MessageSchema = {
  name: 'GraphProto',
  fields: {
    1: { name: 'node', type: NodeProto, repeated: true },
    2: { name: 'name', type: 'string' },
    5: { name: 'initializer', type: TensorProto, repeated: true },
    10: { name: 'doc_string', type: 'string' },
    11: { name: 'input', type: ValueInfoProto, repeated: true },
    12: { name: 'output', type: ValueInfoProto, repeated: true },
    13: { name: 'value_info', type: ValueInfoProto, repeated: true },
    14: { name: 'quantization_annotation', type: TensorAnnotation, repeated: true },
    15: { name: 'sparse_initializer', type: SparseTensorProto, repeated: true },
  },
};

export const TrainingInfoProto: MessageSchema = {
  name: 'TrainingInfoProto',
  fields: {
    1: { name: 'initialization', type: GraphProto },
    2: { name: 'algorithm', type: GraphProto },
    3: { name: 'initialization_binding', type: StringStringEntryProto, repeated: true },
    4: { name: 'update_binding', type: StringStringEntryProto, repeated: true },
  },
};

export const FunctionProto: MessageSchema = {
  name: 'FunctionProto',
  fields: {
    1: { name: 'name', type: 'string' },
    4: { name: 'input', type: 'string', repeated: true },
    5: { name: 'output', type: 'string', repeated: true },
    6: { name: 'attribute', type: 'string', repeated: true },
    7: { name: 'node', type: NodeProto, repeated: true },
    8: { name: 'doc_string', type: 'string' },
    9: { name: 'opset_import', type: OperatorSetIdProto, repeated: true },
    10: { name: 'domain', type: 'string' },
  },
};

export const ModelProto: MessageSchema = {
  name: 'ModelProto',
  fields: {
    1: { name: 'ir_version', type: 'int64' },
    2: { name: 'producer_name', type: 'string' },
    3: { name: 'producer_version', type: 'string' },
    4: { name: 'domain', type: 'string' },
    5: { name: 'model_version', type: 'int64' },
    6: { name: 'doc_string', type: 'string' },
    7: { name: 'graph', type: GraphProto },
    8: { name: 'opset_import', type: OperatorSetIdProto, repeated: true },
    14: { name: 'metadata_props', type: StringStringEntryProto, repeated: true },
    20: { name: 'training_info', type: TrainingInfoProto, repeated: true },
    25: { name: 'functions', type: FunctionProto, repeated: true },
  },
};

// --- typed views of decoded messages (every field optional: proto2, and files omit defaults) ---

type Unknown = { $unknown?: Uint8Array[] };

export interface OnnxStringEntry extends Unknown {
  key?: string;
  value?: string;
}

export interface OnnxOpsetId extends Unknown {
  domain?: string;
  version?: bigint;
}

export interface OnnxTensor extends Unknown {
  dims?: bigint[];
  data_type?: number;
  segment?: { begin?: bigint; end?: bigint } & Unknown;
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: bigint[];
  name?: string;
  raw_data?: Uint8Array;
  double_data?: number[];
  uint64_data?: bigint[];
  doc_string?: string;
  external_data?: OnnxStringEntry[];
  data_location?: number;
}

export interface OnnxSparseTensor extends Unknown {
  values?: OnnxTensor;
  indices?: OnnxTensor;
  dims?: bigint[];
}

export interface OnnxDimension extends Unknown {
  dim_value?: bigint;
  dim_param?: string;
  denotation?: string;
}

export interface OnnxTensorShape extends Unknown {
  dim?: OnnxDimension[];
}

export interface OnnxType extends Unknown {
  tensor_type?: { elem_type?: number; shape?: OnnxTensorShape } & Unknown;
  sequence_type?: { elem_type?: OnnxType } & Unknown;
  map_type?: { key_type?: number; value_type?: OnnxType } & Unknown;
  optional_type?: { elem_type?: OnnxType } & Unknown;
  sparse_tensor_type?: { elem_type?: number; shape?: OnnxTensorShape } & Unknown;
  denotation?: string;
}

export interface OnnxValueInfo extends Unknown {
  name?: string;
  type?: OnnxType;
  doc_string?: string;
}

export interface OnnxAttribute extends Unknown {
  name?: string;
  f?: number;
  i?: bigint;
  s?: Uint8Array;
  t?: OnnxTensor;
  g?: OnnxGraph;
  floats?: number[];
  ints?: bigint[];
  strings?: Uint8Array[];
  tensors?: OnnxTensor[];
  graphs?: OnnxGraph[];
  doc_string?: string;
  tp?: OnnxType;
  type_protos?: OnnxType[];
  type?: number;
  ref_attr_name?: string;
  sparse_tensor?: OnnxSparseTensor;
  sparse_tensors?: OnnxSparseTensor[];
}

export interface OnnxNode extends Unknown {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  attribute?: OnnxAttribute[];
  doc_string?: string;
  domain?: string;
}

export interface OnnxGraph extends Unknown {
  node?: OnnxNode[];
  name?: string;
  initializer?: OnnxTensor[];
  doc_string?: string;
  input?: OnnxValueInfo[];
  output?: OnnxValueInfo[];
  value_info?: OnnxValueInfo[];
  quantization_annotation?: ({
    tensor_name?: string;
    quant_parameter_tensor_names?: OnnxStringEntry[];
  } & Unknown)[];
  sparse_initializer?: OnnxSparseTensor[];
}

export interface OnnxTrainingInfo extends Unknown {
  initialization?: OnnxGraph;
  algorithm?: OnnxGraph;
  initialization_binding?: OnnxStringEntry[];
  update_binding?: OnnxStringEntry[];
}

export interface OnnxFunction extends Unknown {
  name?: string;
  input?: string[];
  output?: string[];
  attribute?: string[];
  node?: OnnxNode[];
  doc_string?: string;
  opset_import?: OnnxOpsetId[];
  domain?: string;
}

export interface OnnxModel extends Unknown {
  ir_version?: bigint;
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: bigint;
  doc_string?: string;
  graph?: OnnxGraph;
  opset_import?: OnnxOpsetId[];
  metadata_props?: OnnxStringEntry[];
  training_info?: OnnxTrainingInfo[];
  functions?: OnnxFunction[];
}

/** TensorProto.DataType names (onnx.proto), for dtypes ferry has no name for and for messages. */
export const ONNX_DATA_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'UNDEFINED',
  1: 'FLOAT',
  2: 'UINT8',
  3: 'INT8',
  4: 'UINT16',
  5: 'INT16',
  6: 'INT32',
  7: 'INT64',
  8: 'STRING',
  9: 'BOOL',
  10: 'FLOAT16',
  11: 'DOUBLE',
  12: 'UINT32',
  13: 'UINT64',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  16: 'BFLOAT16',
  // Added after onnx 1.12 (IR 9); named so a newer file's error message is readable.
  17: 'FLOAT8E4M3FN',
  18: 'FLOAT8E4M3FNUZ',
  19: 'FLOAT8E5M2',
  20: 'FLOAT8E5M2FNUZ',
  21: 'UINT4',
  22: 'INT4',
};

export const DATA_LOCATION_EXTERNAL = 1;
