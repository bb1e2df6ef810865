export { assertNotQuantized } from './already.js';
export {
  type QuantizedWeight,
  type QuantType,
  qRange,
  quantizeWeight,
  roundHalfEven,
  scaleZeroPoint,
} from './params.js';
export {
  activationsToCalibrate,
  DEFAULT_MIN_WEIGHT_ELEMENTS,
  MIN_QUANTIZE_OPSET,
  QUANTIZABLE_OPS,
  type QuantizableOp,
  type QuantizedNodeReport,
  type QuantizeFormat,
  type QuantizeOptions,
  type QuantizeResult,
  quantizeModel,
} from './quantize.js';
