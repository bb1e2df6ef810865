import type { DType } from '@ferry/formats';
import { DTYPE_OF, type Datatype } from '@ferry/serving-api';

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

/**
 * The libtorch dtype of a protocol datatype (through serving-api's mapping onto the one dtype
 * table), or undefined where libtorch has none (BYTES, UINT16, UINT32, UINT64).
 */
export function torchscriptDtypeOf(datatype: Datatype): TorchScriptDType | undefined {
  if (datatype === 'BYTES') return undefined;
  const dtype = DTYPE_OF[datatype];
  return isTorchScriptDType(dtype) ? dtype : undefined;
}
