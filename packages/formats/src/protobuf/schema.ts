/**
 * A protobuf message described as data: ferry reads ONNX and TensorFlow files with schemas
 * written for it (field numbers as the upstream .proto files define them) rather than generated
 * code, so a reader keeps `bytes` fields as views of the file and never copies tensor data.
 */
export type ScalarType =
  | 'int32'
  | 'int64'
  | 'uint32'
  | 'uint64'
  | 'sint32'
  | 'sint64'
  | 'bool'
  | 'enum'
  | 'float'
  | 'double'
  | 'fixed32'
  | 'fixed64'
  | 'sfixed32'
  | 'sfixed64'
  | 'string'
  | 'bytes';

/** A message type, or a thunk for recursive ones (GraphProto holds NodeProto holds GraphProto). */
export type MessageRef = MessageSchema | (() => MessageSchema);

export interface FieldSpec {
  readonly name: string;
  readonly type: ScalarType | MessageRef;
  readonly repeated?: boolean;
  /** Encode repeated numbers packed (proto3's default, proto2's [packed = true]). Decoding accepts both. */
  readonly packed?: boolean;
  /** A map<K, V> field: decoded to a plain object keyed by the key's string form. */
  readonly map?: { readonly key: ScalarType; readonly value: ScalarType | MessageRef };
}

export interface MessageSchema {
  readonly name: string;
  readonly fields: Readonly<Record<number, FieldSpec>>;
}

/**
 * A decoded message: field name -> value. 64-bit integers are bigint, 32-bit ones number,
 * bytes are Uint8Array views of the input, repeated fields arrays, maps objects. Fields the
 * schema does not name are kept, encoded, under `$unknown` so re-encoding loses nothing.
 */
export type Message = { [field: string]: unknown; $unknown?: Uint8Array[] };

export function resolveMessage(ref: MessageRef): MessageSchema {
  return typeof ref === 'function' ? ref() : ref;
}

export function isScalar(type: ScalarType | MessageRef): type is ScalarType {
  return typeof type === 'string';
}

/** Wire types (protobuf encoding guide). */
export const WIRE = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

export function wireTypeOf(type: ScalarType): number {
  switch (type) {
    case 'double':
    case 'fixed64':
    case 'sfixed64':
      return WIRE.I64;
    case 'float':
    case 'fixed32':
    case 'sfixed32':
      return WIRE.I32;
    case 'string':
    case 'bytes':
      return WIRE.LEN;
    default:
      return WIRE.VARINT;
  }
}
