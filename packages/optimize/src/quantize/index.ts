export { assertNotQuantized } from './already.js';
export { activationsToCalibrate } from './candidates.js';
export {
  DEFAULT_MIN_WEIGHT_ELEMENTS,
  MIN_QUANTIZE_OPSET,
  QUANTIZABLE_OPS,
  type QuantizableOp,
  type QuantizedNodeReport,
  type QuantizeFormat,
  type QuantizeOptions,
  type QuantizeResult,
} from './options.js';
export {
  type QuantizedWeight,
  type QuantType,
  qRange,
  quantizeWeight,
  roundHalfEven,
  scaleZeroPoint,
} from './params.js';
export { quantizeModel } from './quantize-model.js';
export { QUANTIZERS } from './registry.js';
