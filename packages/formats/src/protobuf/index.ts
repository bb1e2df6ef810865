export { type DecodeContext, decodeMessage, MAX_PROTOBUF_DEPTH } from './decode.js';
export { encodeChunks, encodeMessage } from './encode.js';
export type { FieldSpec, Message, MessageRef, MessageSchema, ScalarType } from './schema.js';
