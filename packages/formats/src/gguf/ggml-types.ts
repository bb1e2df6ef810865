import { type DType, dtypeFromGgml } from '../tensor/dtype.js';

/**
 * One ggml tensor type: `blockSize` elements are stored in `typeSize` bytes. Unquantized types
 * have a block of 1 and a ferry dtype; quantized ones are blocks ferry reports but does not decode.
 */
export interface GgmlType {
  readonly code: number;
  readonly name: string;
  readonly blockSize: number;
  readonly typeSize: number;
  /** The ferry dtype for unquantized types; undefined for quantized blocks. */
  readonly dtype: DType | undefined;
  /** Set for codes ggml has since removed; files written with them still exist. */
  readonly removed?: string;
}

const QK_K = 256;

// ggml/include/ggml.h `enum ggml_type` and the block structs in ggml/src/ggml-common.h
// (the same figures as gguf-py's GGML_QUANT_SIZES). Codes 4 and 5 (Q4_2, Q4_3) were dropped
// before GGUF existed; the *_4_4 / *_4_8 / *_8_8 repacked types were removed in 2024-12
// (llama.cpp #10446) in favour of online repacking but were written to files before that.
const rows: readonly (readonly [number, string, number, number, string?])[] = [
  [0, 'F32', 1, 4],
  [1, 'F16', 1, 2],
  [2, 'Q4_0', 32, 2 + 16],
  [3, 'Q4_1', 32, 2 + 2 + 16],
  [6, 'Q5_0', 32, 2 + 4 + 16],
  [7, 'Q5_1', 32, 2 + 2 + 4 + 16],
  [8, 'Q8_0', 32, 2 + 32],
  [9, 'Q8_1', 32, 4 + 4 + 32],
  [10, 'Q2_K', QK_K, 2 + 2 + QK_K / 16 + QK_K / 4],
  [11, 'Q3_K', QK_K, 2 + QK_K / 4 + QK_K / 8 + 12],
  [12, 'Q4_K', QK_K, 2 + 2 + QK_K / 2 + 12],
  [13, 'Q5_K', QK_K, 2 + 2 + QK_K / 2 + QK_K / 8 + 12],
  [14, 'Q6_K', QK_K, 2 + QK_K / 2 + QK_K / 4 + QK_K / 16],
  [15, 'Q8_K', QK_K, 4 + QK_K + QK_K / 8],
  [16, 'IQ2_XXS', QK_K, 2 + QK_K / 4],
  [17, 'IQ2_XS', QK_K, 2 + QK_K / 4 + QK_K / 32],
  [18, 'IQ3_XXS', QK_K, 2 + QK_K / 4 + QK_K / 8],
  [19, 'IQ1_S', QK_K, 2 + QK_K / 8 + QK_K / 16],
  [20, 'IQ4_NL', 32, 2 + 16],
  [21, 'IQ3_S', QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4],
  [22, 'IQ2_S', QK_K, 2 + QK_K / 4 + QK_K / 16],
  [23, 'IQ4_XS', QK_K, 2 + 2 + QK_K / 2 + QK_K / 64],
  [24, 'I8', 1, 1],
  [25, 'I16', 1, 2],
  [26, 'I32', 1, 4],
  [27, 'I64', 1, 8],
  [28, 'F64', 1, 8],
  [29, 'IQ1_M', QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32],
  [30, 'BF16', 1, 2],
  [31, 'Q4_0_4_4', 32, 2 + 16, 'removed from ggml in 2024-12'],
  [32, 'Q4_0_4_8', 32, 2 + 16, 'removed from ggml in 2024-12'],
  [33, 'Q4_0_8_8', 32, 2 + 16, 'removed from ggml in 2024-12'],
  [34, 'TQ1_0', QK_K, 2 + 4 * 13],
  [35, 'TQ2_0', QK_K, 2 + 64],
  [36, 'IQ4_NL_4_4', 32, 2 + 16, 'removed from ggml in 2024-12'],
  [37, 'IQ4_NL_4_8', 32, 2 + 16, 'removed from ggml in 2024-12'],
  [38, 'IQ4_NL_8_8', 32, 2 + 16, 'removed from ggml in 2024-12'],
  // block_mxfp4: one E8M0 scale byte + 32 4-bit values (ggml-common.h, added 2025-08).
  [39, 'MXFP4', 32, 1 + 16],
];

export const GGML_TYPES: ReadonlyMap<number, GgmlType> = new Map(
  rows.map(([code, name, blockSize, typeSize, removed]) => {
    const dtype = blockSize === 1 ? dtypeFromGgml(code) : undefined;
    return [code, { code, name, blockSize, typeSize, dtype, ...(removed && { removed }) }];
  }),
);

export function ggmlType(code: number): GgmlType | undefined {
  return GGML_TYPES.get(code);
}
