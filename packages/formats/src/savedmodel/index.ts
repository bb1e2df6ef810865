export { crc32c, crc32cExtend, crc32cMask, crc32cUnmask } from './crc32c.js';
export { decodeSavedModelBytes, MAX_SAVED_MODEL_BYTES } from './decode.js';
export { DT_STRING, ferryDtypeOfTf, tfDtypeDisplay, tfDtypeName } from './dtypes.js';
export { CHECKPOINT_OPS, RISKY_OPS, scanMetaGraph } from './findings.js';
export { readSavedModel, SAVED_MODEL_PB, savedModelHandler, VARIABLES_PREFIX } from './handler.js';
export {
  type CheckpointObject,
  decodeCheckpointObjectGraph,
  escapeLocalName,
  OBJECT_GRAPH_KEY,
  VARIABLE_VALUE_SUFFIX,
  variableCheckpointKeys,
} from './object-graph.js';
export * as savedModelProtos from './protos.js';
export {
  graphOpHistogram,
  opHistogram,
  servingMetaGraph,
  signaturesOf,
  tagSetLabel,
  tensorNameOf,
} from './signatures.js';
export { readTable, type TableEntry } from './sstable.js';
export {
  type BundleEntry,
  type BundleHeader,
  openTensorBundle,
  shardFileName,
  type TensorBundle,
} from './tensor-bundle.js';
export { tfTensorToBytes } from './tensor-proto.js';
export type * from './types.js';
