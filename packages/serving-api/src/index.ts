/**
 * @ferry/serving-api: the serving contract, apart from the server. Protocol datatypes, tensors,
 * the Backend interface a runtime implements, and the model config schema declared once with
 * the one validator both the server (config.yaml) and bundles (ferry.yaml `serving:`) use.
 */
export type {
  Backend,
  BackendOptions,
  EntryOptions,
  EntryPoint,
  LoadedModel,
  ModelInstance,
  TensorMetadata,
} from './backend.js';
export { describeValue } from './config/wording.js';
export { validateModelConfig, validateServingKnobs } from './config/validate-config.js';
export { fieldPathText } from './config/walk.js';
export {
  DATATYPE_SIZE,
  DATATYPES,
  type Datatype,
  DTYPE_OF,
  datatypeOf,
  INTEGER_RANGE,
  type NumericDatatype,
} from './datatype.js';
export { ANY_DIM, MAX_DIM } from './limits.js';
export {
  DEFAULT_CONFIG,
  type InstancePlacement,
  type ModelConfig,
  type ServingKnobs,
  type TensorOverride,
  type VersionPolicy,
} from './model-config.js';
export { ownedByBatch, recycleBatchBuffer, takeBatchBuffer } from './batch-buffers.js';
export {
  concatRows,
  elementCount,
  sliceRows,
  type Tensor,
} from './tensor.js';
