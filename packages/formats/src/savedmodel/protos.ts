import type { MessageSchema } from '../protobuf/schema.js';

/**
 * The TensorFlow messages ferry reads from saved_model.pb and variables.index, written for ferry
 * as schemas for its protobuf codec. Field numbers are exactly TensorFlow's:
 * tensorflow/core/protobuf/{saved_model,meta_graph,saver,saved_object_graph,tensor_bundle}.proto,
 * tensorflow/core/framework/{graph,node_def,attr_value,function,op_def,tensor,tensor_shape,
 * tensor_slice,versions,types}.proto. Fields ferry does not read stay in `$unknown`.
 */

// tensorflow/core/framework/versions.proto
export const VersionDef: MessageSchema = {
  name: 'VersionDef',
  fields: {
    1: { name: 'producer', type: 'int32' },
    2: { name: 'min_consumer', type: 'int32' },
    3: { name: 'bad_consumers', type: 'int32', repeated: true, packed: true },
  },
};

// tensorflow/core/framework/tensor_shape.proto
const TensorShapeDim: MessageSchema = {
  name: 'TensorShapeProto.Dim',
  fields: {
    1: { name: 'size', type: 'int64' },
    2: { name: 'name', type: 'string' },
  },
};

export const TensorShapeProto: MessageSchema = {
  name: 'TensorShapeProto',
  fields: {
    2: { name: 'dim', type: TensorShapeDim, repeated: true },
    3: { name: 'unknown_rank', type: 'bool' },
  },
};

// tensorflow/core/framework/tensor_slice.proto
const TensorSliceExtent: MessageSchema = {
  name: 'TensorSliceProto.Extent',
  fields: {
    1: { name: 'start', type: 'int64' },
    2: { name: 'length', type: 'int64' },
  },
};

export const TensorSliceProto: MessageSchema = {
  name: 'TensorSliceProto',
  fields: { 1: { name: 'extent', type: TensorSliceExtent, repeated: true } },
};

// tensorflow/core/framework/resource_handle.proto (only what a constant of DT_RESOURCE names)
const ResourceHandleProto: MessageSchema = {
  name: 'ResourceHandleProto',
  fields: {
    1: { name: 'device', type: 'string' },
    2: { name: 'container', type: 'string' },
    3: { name: 'name', type: 'string' },
    4: { name: 'hash_code', type: 'uint64' },
    5: { name: 'maybe_type_name', type: 'string' },
  },
};

// tensorflow/core/framework/tensor.proto
export const TensorProto: MessageSchema = {
  name: 'TensorProto',
  fields: {
    1: { name: 'dtype', type: 'enum' },
    2: { name: 'tensor_shape', type: TensorShapeProto },
    3: { name: 'version_number', type: 'int32' },
    4: { name: 'tensor_content', type: 'bytes' },
    5: { name: 'float_val', type: 'float', repeated: true, packed: true },
    6: { name: 'double_val', type: 'double', repeated: true, packed: true },
    7: { name: 'int_val', type: 'int32', repeated: true, packed: true },
    8: { name: 'string_val', type: 'bytes', repeated: true },
    9: { name: 'scomplex_val', type: 'float', repeated: true, packed: true },
    10: { name: 'int64_val', type: 'int64', repeated: true, packed: true },
    11: { name: 'bool_val', type: 'bool', repeated: true, packed: true },
    12: { name: 'dcomplex_val', type: 'double', repeated: true, packed: true },
    13: { name: 'half_val', type: 'int32', repeated: true, packed: true },
    14: { name: 'resource_handle_val', type: ResourceHandleProto, repeated: true },
    // 15 variant_val (VariantTensorDataProto) is left in $unknown: ferry never builds variants.
    16: { name: 'uint32_val', type: 'uint32', repeated: true, packed: true },
    17: { name: 'uint64_val', type: 'uint64', repeated: true, packed: true },
    18: { name: 'float8_val', type: 'bytes' },
  },
};

// tensorflow/core/framework/attr_value.proto
const NameAttrList: MessageSchema = {
  name: 'NameAttrList',
  fields: {
    1: { name: 'name', type: 'string' },
    2: { name: 'attr', type: 'string', map: { key: 'string', value: () => AttrValue } },
  },
};

const AttrListValue: MessageSchema = {
  name: 'AttrValue.ListValue',
  fields: {
    2: { name: 's', type: 'bytes', repeated: true },
    3: { name: 'i', type: 'int64', repeated: true, packed: true },
    4: { name: 'f', type: 'float', repeated: true, packed: true },
    5: { name: 'b', type: 'bool', repeated: true, packed: true },
    6: { name: 'type', type: 'enum', repeated: true, packed: true },
    7: { name: 'shape', type: TensorShapeProto, repeated: true },
    8: { name: 'tensor', type: TensorProto, repeated: true },
    9: { name: 'func', type: NameAttrList, repeated: true },
  },
};

export const AttrValue: MessageSchema = {
  name: 'AttrValue',
  fields: {
    1: { name: 'list', type: AttrListValue },
    2: { name: 's', type: 'bytes' },
    3: { name: 'i', type: 'int64' },
    4: { name: 'f', type: 'float' },
    5: { name: 'b', type: 'bool' },
    6: { name: 'type', type: 'enum' },
    7: { name: 'shape', type: TensorShapeProto },
    8: { name: 'tensor', type: TensorProto },
    9: { name: 'placeholder', type: 'string' },
    10: { name: 'func', type: NameAttrList },
  },
};

// tensorflow/core/framework/node_def.proto
export const NodeDef: MessageSchema = {
  name: 'NodeDef',
  fields: {
    1: { name: 'name', type: 'string' },
    2: { name: 'op', type: 'string' },
    3: { name: 'input', type: 'string', repeated: true },
    4: { name: 'device', type: 'string' },
    5: { name: 'attr', type: 'string', map: { key: 'string', value: AttrValue } },
    // 6 experimental_debug_info, 7 experimental_type: kept in $unknown.
  },
};

// tensorflow/core/framework/op_def.proto
const OpArgDef: MessageSchema = {
  name: 'OpDef.ArgDef',
  fields: {
    1: { name: 'name', type: 'string' },
    2: { name: 'description', type: 'string' },
    3: { name: 'type', type: 'enum' },
    4: { name: 'type_attr', type: 'string' },
    5: { name: 'number_attr', type: 'string' },
    6: { name: 'type_list_attr', type: 'string' },
    16: { name: 'is_ref', type: 'bool' },
  },
};

const OpAttrDef: MessageSchema = {
  name: 'OpDef.AttrDef',
  fields: {
    1: { name: 'name', type: 'string' },
    2: { name: 'type', type: 'string' },
    3: { name: 'default_value', type: AttrValue },
    4: { name: 'description', type: 'string' },
    5: { name: 'has_minimum', type: 'bool' },
    6: { name: 'minimum', type: 'int64' },
    7: { name: 'allowed_values', type: AttrValue },
  },
};

export const OpDef: MessageSchema = {
  name: 'OpDef',
  fields: {
    1: { name: 'name', type: 'string' },
    2: { name: 'input_arg', type: OpArgDef, repeated: true },
    3: { name: 'output_arg', type: OpArgDef, repeated: true },
    4: { name: 'attr', type: OpAttrDef, repeated: true },
    5: { name: 'summary', type: 'string' },
    6: { name: 'description', type: 'string' },
    16: { name: 'is_aggregate', type: 'bool' },
    17: { name: 'is_stateful', type: 'bool' },
    18: { name: 'is_commutative', type: 'bool' },
    19: { name: 'allows_uninitialized_input', type: 'bool' },
    20: { name: 'control_output', type: 'string', repeated: true },
    21: { name: 'is_distributed_communication', type: 'bool' },
  },
};

export const OpList: MessageSchema = {
  name: 'OpList',
  fields: { 1: { name: 'op', type: OpDef, repeated: true } },
};

// tensorflow/core/framework/function.proto
const ArgAttrs: MessageSchema = {
  name: 'FunctionDef.ArgAttrs',
  fields: { 1: { name: 'attr', type: 'string', map: { key: 'string', value: AttrValue } } },
};

export const FunctionDef: MessageSchema = {
  name: 'FunctionDef',
  fields: {
    1: { name: 'signature', type: OpDef },
    3: { name: 'node_def', type: NodeDef, repeated: true },
    4: { name: 'ret', type: 'string', map: { key: 'string', value: 'string' } },
    5: { name: 'attr', type: 'string', map: { key: 'string', value: AttrValue } },
    6: { name: 'control_ret', type: 'string', map: { key: 'string', value: 'string' } },
    7: { name: 'arg_attr', type: 'string', map: { key: 'uint32', value: ArgAttrs } },
    8: { name: 'resource_arg_unique_id', type: 'string', map: { key: 'uint32', value: 'uint32' } },
  },
};

const GradientDef: MessageSchema = {
  name: 'GradientDef',
  fields: {
    1: { name: 'function_name', type: 'string' },
    2: { name: 'gradient_func', type: 'string' },
  },
};

export const FunctionDefLibrary: MessageSchema = {
  name: 'FunctionDefLibrary',
  fields: {
    1: { name: 'function', type: FunctionDef, repeated: true },
    2: { name: 'gradient', type: GradientDef, repeated: true },
  },
};

// tensorflow/core/framework/graph.proto
export const GraphDef: MessageSchema = {
  name: 'GraphDef',
  fields: {
    1: { name: 'node', type: NodeDef, repeated: true },
    2: { name: 'library', type: FunctionDefLibrary },
    3: { name: 'version', type: 'int32' },
    4: { name: 'versions', type: VersionDef },
    // 5 debug_info: kept in $unknown.
  },
};

// tensorflow/core/protobuf/saver.proto
export const SaverDef: MessageSchema = {
  name: 'SaverDef',
  fields: {
    1: { name: 'filename_tensor_name', type: 'string' },
    2: { name: 'save_tensor_name', type: 'string' },
    3: { name: 'restore_op_name', type: 'string' },
    4: { name: 'max_to_keep', type: 'int32' },
    5: { name: 'sharded', type: 'bool' },
    6: { name: 'keep_checkpoint_every_n_hours', type: 'float' },
    7: { name: 'version', type: 'enum' },
  },
};

// tensorflow/core/protobuf/meta_graph.proto
const CooSparse: MessageSchema = {
  name: 'TensorInfo.CooSparse',
  fields: {
    1: { name: 'values_tensor_name', type: 'string' },
    2: { name: 'indices_tensor_name', type: 'string' },
    3: { name: 'dense_shape_tensor_name', type: 'string' },
  },
};

const CompositeTensor: MessageSchema = {
  name: 'TensorInfo.CompositeTensor',
  fields: {
    // 1 type_spec (TypeSpecProto, struct.proto): kept in $unknown.
    2: { name: 'components', type: () => TensorInfo, repeated: true },
  },
};

export const TensorInfo: MessageSchema = {
  name: 'TensorInfo',
  fields: {
    1: { name: 'name', type: 'string' },
    2: { name: 'dtype', type: 'enum' },
    3: { name: 'tensor_shape', type: TensorShapeProto },
    4: { name: 'coo_sparse', type: CooSparse },
    5: { name: 'composite_tensor', type: CompositeTensor },
  },
};

export const SignatureDef: MessageSchema = {
  name: 'SignatureDef',
  fields: {
    1: { name: 'inputs', type: 'string', map: { key: 'string', value: TensorInfo } },
    2: { name: 'outputs', type: 'string', map: { key: 'string', value: TensorInfo } },
    3: { name: 'method_name', type: 'string' },
    4: { name: 'defaults', type: 'string', map: { key: 'string', value: TensorProto } },
  },
};

const AssetFileDef: MessageSchema = {
  name: 'AssetFileDef',
  fields: {
    1: { name: 'tensor_info', type: TensorInfo },
    2: { name: 'filename', type: 'string' },
  },
};

const MetaInfoDef: MessageSchema = {
  name: 'MetaGraphDef.MetaInfoDef',
  fields: {
    1: { name: 'meta_graph_version', type: 'string' },
    2: { name: 'stripped_op_list', type: OpList },
    // 3 any_info (google.protobuf.Any): kept in $unknown.
    4: { name: 'tags', type: 'string', repeated: true },
    5: { name: 'tensorflow_version', type: 'string' },
    6: { name: 'tensorflow_git_version', type: 'string' },
    7: { name: 'stripped_default_attrs', type: 'bool' },
    8: { name: 'function_aliases', type: 'string', map: { key: 'string', value: 'string' } },
  },
};

// tensorflow/core/protobuf/trackable_object_graph.proto (the edges SavedObject shares)
const ObjectReference: MessageSchema = {
  name: 'TrackableObject.ObjectReference',
  fields: {
    1: { name: 'node_id', type: 'int32' },
    2: { name: 'local_name', type: 'string' },
  },
};

// tensorflow/core/protobuf/saved_object_graph.proto
const SavedUserObject: MessageSchema = {
  name: 'SavedUserObject',
  fields: {
    1: { name: 'identifier', type: 'string' },
    2: { name: 'version', type: VersionDef },
    3: { name: 'metadata', type: 'string' },
  },
};

const SavedFunction: MessageSchema = {
  name: 'SavedFunction',
  fields: {
    1: { name: 'concrete_functions', type: 'string', repeated: true },
    // 2 function_spec: kept in $unknown.
  },
};

const SavedBareConcreteFunction: MessageSchema = {
  name: 'SavedBareConcreteFunction',
  fields: {
    1: { name: 'concrete_function_name', type: 'string' },
    2: { name: 'argument_keywords', type: 'string', repeated: true },
    3: { name: 'allowed_positional_arguments', type: 'int64' },
  },
};

const SavedVariable: MessageSchema = {
  name: 'SavedVariable',
  fields: {
    1: { name: 'dtype', type: 'enum' },
    2: { name: 'shape', type: TensorShapeProto },
    3: { name: 'trainable', type: 'bool' },
    4: { name: 'synchronization', type: 'enum' },
    5: { name: 'aggregation', type: 'enum' },
    6: { name: 'name', type: 'string' },
    7: { name: 'device', type: 'string' },
  },
};

const SavedAsset: MessageSchema = {
  name: 'SavedAsset',
  fields: { 1: { name: 'asset_file_def_index', type: 'int32' } },
};

const SavedConstant: MessageSchema = {
  name: 'SavedConstant',
  fields: { 1: { name: 'operation', type: 'string' } },
};

const SavedResource: MessageSchema = {
  name: 'SavedResource',
  fields: { 1: { name: 'device', type: 'string' } },
};

const SavedObject: MessageSchema = {
  name: 'SavedObject',
  fields: {
    1: { name: 'children', type: ObjectReference, repeated: true },
    // 3 slot_variables: kept in $unknown.
    4: { name: 'user_object', type: SavedUserObject },
    5: { name: 'asset', type: SavedAsset },
    6: { name: 'function', type: SavedFunction },
    7: { name: 'variable', type: SavedVariable },
    8: { name: 'bare_concrete_function', type: SavedBareConcreteFunction },
    9: { name: 'constant', type: SavedConstant },
    10: { name: 'resource', type: SavedResource },
    // 11 saveable_objects, 12 captured_tensor, 14 serialized_user_proto, 15 dependencies,
    // 16 registered_saver: kept in $unknown.
    13: { name: 'registered_name', type: 'string' },
  },
};

const SavedConcreteFunction: MessageSchema = {
  name: 'SavedConcreteFunction',
  fields: {
    2: { name: 'bound_inputs', type: 'int32', repeated: true, packed: true },
    // 3 canonicalized_input_signature, 4 output_signature (StructuredValue): kept in $unknown.
  },
};

export const SavedObjectGraph: MessageSchema = {
  name: 'SavedObjectGraph',
  fields: {
    1: { name: 'nodes', type: SavedObject, repeated: true },
    2: { name: 'concrete_functions', type: 'string', map: { key: 'string', value: SavedConcreteFunction } },
  },
};

export const MetaGraphDef: MessageSchema = {
  name: 'MetaGraphDef',
  fields: {
    1: { name: 'meta_info_def', type: MetaInfoDef },
    2: { name: 'graph_def', type: GraphDef },
    3: { name: 'saver_def', type: SaverDef },
    // 4 collection_def: TF1 Python collections, kept in $unknown (ferry reads nothing from them).
    5: { name: 'signature_def', type: 'string', map: { key: 'string', value: SignatureDef } },
    6: { name: 'asset_file_def', type: AssetFileDef, repeated: true },
    7: { name: 'object_graph_def', type: SavedObjectGraph },
  },
};

// tensorflow/core/protobuf/saved_model.proto
export const SavedModel: MessageSchema = {
  name: 'SavedModel',
  fields: {
    1: { name: 'saved_model_schema_version', type: 'int64' },
    2: { name: 'meta_graphs', type: MetaGraphDef, repeated: true },
  },
};

// tensorflow/core/protobuf/tensor_bundle.proto
export const BundleHeaderProto: MessageSchema = {
  name: 'BundleHeaderProto',
  fields: {
    1: { name: 'num_shards', type: 'int32' },
    2: { name: 'endianness', type: 'enum' },
    3: { name: 'version', type: VersionDef },
  },
};

export const BundleEntryProto: MessageSchema = {
  name: 'BundleEntryProto',
  fields: {
    1: { name: 'dtype', type: 'enum' },
    2: { name: 'shape', type: TensorShapeProto },
    3: { name: 'shard_id', type: 'int32' },
    4: { name: 'offset', type: 'int64' },
    5: { name: 'size', type: 'int64' },
    6: { name: 'crc32c', type: 'fixed32' },
    7: { name: 'slices', type: TensorSliceProto, repeated: true },
  },
};

/**
 * The same two top levels with every submessage left as bytes: `detect` checks that a file has the
 * shape of a SavedModel without decoding its graph (the full decode happens once, in `open`).
 */
export const SavedModelShallow: MessageSchema = {
  name: 'SavedModel',
  fields: {
    1: { name: 'saved_model_schema_version', type: 'int64' },
    2: { name: 'meta_graphs', type: 'bytes', repeated: true },
  },
};

export const MetaGraphDefShallow: MessageSchema = {
  name: 'MetaGraphDef',
  fields: {
    1: { name: 'meta_info_def', type: MetaInfoDef },
    2: { name: 'graph_def', type: 'bytes' },
    3: { name: 'saver_def', type: 'bytes' },
    4: { name: 'collection_def', type: 'bytes', repeated: true },
    5: { name: 'signature_def', type: 'bytes', repeated: true },
    6: { name: 'asset_file_def', type: 'bytes', repeated: true },
    7: { name: 'object_graph_def', type: 'bytes' },
  },
};

// tensorflow/core/protobuf/trackable_object_graph.proto: the TF2 checkpoint's own object graph,
// stored as the DT_STRING variable _CHECKPOINTABLE_OBJECT_GRAPH.
const SerializedTensor: MessageSchema = {
  name: 'TrackableObject.SerializedTensor',
  fields: {
    1: { name: 'name', type: 'string' },
    2: { name: 'full_name', type: 'string' },
    3: { name: 'checkpoint_key', type: 'string' },
  },
};

const SlotVariableReference: MessageSchema = {
  name: 'TrackableObject.SlotVariableReference',
  fields: {
    1: { name: 'original_variable_node_id', type: 'int32' },
    2: { name: 'slot_name', type: 'string' },
    3: { name: 'slot_variable_node_id', type: 'int32' },
  },
};

const TrackableObject: MessageSchema = {
  name: 'TrackableObject',
  fields: {
    1: { name: 'children', type: ObjectReference, repeated: true },
    2: { name: 'attributes', type: SerializedTensor, repeated: true },
    3: { name: 'slot_variables', type: SlotVariableReference, repeated: true },
    // 4 registered_saver, 5 has_checkpoint_values: kept in $unknown.
  },
};

export const TrackableObjectGraph: MessageSchema = {
  name: 'TrackableObjectGraph',
  fields: { 1: { name: 'nodes', type: TrackableObject, repeated: true } },
};
