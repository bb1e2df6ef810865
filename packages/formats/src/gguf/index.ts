export { GGML_TYPES, type GgmlType, ggmlType } from './ggml-types.js';
export { ggufHandler, modelFromGguf } from './gguf-handler.js';
export * from './limits.js';
export {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_VALUE_TYPES,
  type GgufArray,
  type GgufFile,
  type GgufKeyValue,
  type GgufScalar,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueType,
  hasGgufMagic,
  readGguf,
} from './read-gguf.js';
