import type { OnnxModel } from '../onnx-schema.js';

export type QuantizeFormat = 'qoperator' | 'qdq';
export const QUANTIZABLE_OPS = ['MatMul', 'Gemm', 'Conv', 'Gather'] as const;
export type QuantizableOp = (typeof QUANTIZABLE_OPS)[number];

/** Weights with fewer elements are left in float: they save next to nothing and cost accuracy. */
export const DEFAULT_MIN_WEIGHT_ELEMENTS = 1024;

export interface QuantizeOptions {
  /** For messages. */
  readonly path?: string;
  /** Op types to quantize; default MatMul and Gemm (onnxruntime adds Conv and Gather on request). */
  readonly ops?: readonly QuantizableOp[];
  readonly perChannel?: boolean;
  readonly reduceRange?: boolean;
  readonly format?: QuantizeFormat;
  readonly minWeightElements?: number;
  /**
   * Static quantization: the calibrated range of each activation (see `activationsToCalibrate`).
   * Activations are then quantized with fixed scales (QuantizeLinear) instead of
   * DynamicQuantizeLinear; QDQ form only.
   */
  readonly activationRanges?: ReadonlyMap<string, { min: number; max: number }>;
}

export interface QuantizedNodeReport {
  readonly node: string;
  readonly op: string;
  readonly weight: string;
  readonly elements: number;
  readonly perChannel: boolean;
}

export interface QuantizeResult {
  readonly model: OnnxModel;
  readonly quantized: QuantizedNodeReport[];
  readonly skipped: { node: string; op: string; reason: string }[];
  readonly opsetRaised?: { from: number; to: number };
}

/** The integer operators arrived in opset 10; onnxruntime's quantizer refuses older models. */
export const MIN_QUANTIZE_OPSET = 10;
/** DynamicQuantizeLinear is opset 11 (onnxruntime raises 10 to 11 the same way). */
export const DYNAMIC_OPSET = 11;
/** DequantizeLinear's `axis` (per-channel) is opset 13. */
export const PER_AXIS_OPSET = 13;
