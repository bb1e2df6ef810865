/** @ferry/optimize: graph optimization, int8 quantization and float16 conversion of ONNX models, checked in onnxruntime. */
export type { CalibrationMethod } from './calibrate.js';
export type { VerifyOptions } from './check-output.js';
export { isOptimizeError, OPTIMIZE_ERRORS, optimizeError } from './errors.js';
export { convertFileToFloat16 } from './float16.js';
export { type Feed, inputSpecs, randomFeeds, sampleFeeds, tensorValues, toOrtFeeds } from './inputs.js';
export { loadForTransform } from './model-io.js';
export { OPTIMIZATION_LEVELS, optimizeModel } from './optimize.js';
export { quantizeFile } from './quantize.js';
export * as quantize from './quantize/index.js';
export { type OptimizationLevel, openSession, ort, runSession } from './runtime.js';
export { encodeSamples, readSampleFile } from './sample-data.js';
export { compareArrays, type VerifyReport } from './verify.js';
