import { ferryError } from '../errors.js';
import { decodeMessage } from '../protobuf/decode.js';
import { encodeChunks, encodeMessage } from '../protobuf/encode.js';
import type { Message } from '../protobuf/schema.js';
import { MAX_ONNX_MODEL_BYTES } from './limits.js';
import { ModelProto, type OnnxModel } from './schema.js';

/**
 * Decodes a whole ModelProto. `bytes` fields (raw_data above all) stay views of `bytes`, so the
 * caller must keep `bytes` alive as long as the model is used.
 */
export function decodeModel(bytes: Uint8Array, path = '<buffer>'): OnnxModel {
  if (bytes.byteLength > MAX_ONNX_MODEL_BYTES) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'ONNX model size',
      value: bytes.byteLength,
      limit: MAX_ONNX_MODEL_BYTES,
      reason: "protobuf's 2 GB message limit; larger models keep tensors in external data",
    });
  }
  return decodeMessage(ModelProto, bytes, { path }) as OnnxModel;
}

/** The model's wire form as chunks (tensor bytes are passed through, not copied). */
export function encodeModelChunks(model: OnnxModel): { chunks: Uint8Array[]; length: number } {
  return encodeChunks(ModelProto, model as Message);
}

export function encodeModel(model: OnnxModel): Uint8Array {
  return encodeMessage(ModelProto, model as Message);
}
