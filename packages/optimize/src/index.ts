/** @ferry/optimize: graph optimization, int8 quantization and float16 conversion of ONNX models, checked in onnxruntime. */
export {
  CALIBRATION_BINS,
  type CalibrationMethod,
  DEFAULT_PERCENTILE,
  percentileRange,
} from './calibrate.js';
export { type VerifyOptions, verifyResult } from './check-output.js';
export {
  isOptimizeError,
  OPTIMIZE_ERRORS,
  OptimizeError,
  type OptimizeErrorCode,
  optimizeError,
} from './errors.js';
export { convertFileToFloat16, type Float16Report } from './float16.js';
export * as fp16 from './fp16/convert.js';
export {
  type Feed,
  type InputSpec,
  inputSpecs,
  randomFeeds,
  sampleFeeds,
  seededRandom,
  tensorValues,
  toOrtFeeds,
} from './inputs.js';
export { loadForTransform } from './model-io.js';
export { OPTIMIZATION_LEVELS, type OptimizeReport, optimizeModel } from './optimize.js';
export { type QuantizeCommandOptions, type QuantizeReport, quantizeFile } from './quantize.js';
export * as quantize from './quantize/index.js';
export { type OptimizationLevel, openSession, ort, runSession } from './runtime.js';
export {
  encodeSamples,
  MAX_SAMPLE_FILE_BYTES,
  readSampleFile,
  type SampleDType,
  type SampleTensor,
} from './sample-data.js';
export { compareArrays, compareModels, type OutputComparison, type VerifyReport } from './verify.js';
export { EXTERNAL_DATA_THRESHOLD, type WrittenResult, writeResult } from './write-result.js';
