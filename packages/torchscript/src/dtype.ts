import { type DType, dtypeFromProtocol } from '@ferry/formats';

/** The ferry dtypes libtorch 1.13 has tensors for (it has no U16/U32/U64, F8 or C64 equivalents here). */
export const TORCHSCRIPT_DTYPES = [
  'BOOL',
  'U8',
  'I8',
  'I16',
  'I32',
  'I64',
  'F16',
  'BF16',
  'F32',
  'F64',
] as const;
export type TorchScriptDType = (typeof TORCHSCRIPT_DTYPES)[number] & DType;

export function isTorchScriptDType(value: string): value is TorchScriptDType {
  return (TORCHSCRIPT_DTYPES as readonly string[]).includes(value);
}

/** Open Inference Protocol datatype names (what @ferry/serve speaks) <-> ferry dtype names. */
const PROTOCOL_NAMES = [
  'BOOL',
  'UINT8',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'BF16',
  'FP32',
  'FP64',
] as const;
export const PROTOCOL_TO_DTYPE: Readonly<Record<(typeof PROTOCOL_NAMES)[number], TorchScriptDType>> =
  Object.fromEntries(PROTOCOL_NAMES.map((p) => [p, dtypeFromProtocol(p) as TorchScriptDType])) as Record<
    (typeof PROTOCOL_NAMES)[number],
    TorchScriptDType
  >;
export type ProtocolDatatype = keyof typeof PROTOCOL_TO_DTYPE;

export const DTYPE_TO_PROTOCOL: Readonly<Record<TorchScriptDType, ProtocolDatatype>> = Object.fromEntries(
  Object.entries(PROTOCOL_TO_DTYPE).map(([protocol, dtype]) => [dtype, protocol]),
) as Record<TorchScriptDType, ProtocolDatatype>;

export function isProtocolDatatype(value: string): value is ProtocolDatatype {
  return Object.hasOwn(PROTOCOL_TO_DTYPE, value);
}
