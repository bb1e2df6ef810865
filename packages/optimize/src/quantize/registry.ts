import type { OpQuantizer } from './op-quantizer.js';
import { convQuantizer } from './ops/conv.js';
import { gatherQuantizer } from './ops/gather.js';
import { gemmQuantizer } from './ops/gemm.js';
import { matMulQuantizer } from './ops/matmul.js';
import type { QuantizableOp } from './options.js';

/**
 * The quantizer of each op type, as onnxruntime's quantization/registry.py maps op types to
 * its operators/ classes. Quantizing a new op is a new file in ops/ and a row here.
 */
export const QUANTIZERS: Readonly<Record<QuantizableOp, OpQuantizer>> = {
  MatMul: matMulQuantizer,
  Gemm: gemmQuantizer,
  Conv: convQuantizer,
  Gather: gatherQuantizer,
};
