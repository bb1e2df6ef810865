import type { FormatHandler } from './model.js';
import { joblibHandler, pickleHandler } from './pickle/handler.js';
import { pytorchLegacyHandler } from './pytorch/legacy.js';
import { pytorchZipHandler, torchscriptHandler } from './pytorch/zip-checkpoint.js';

/**
 * Every format ferry reads, in detection order: formats with unambiguous magic bytes first,
 * container formats (zip, pickle) after, so the more specific answer wins.
 */
export const FORMAT_HANDLERS: readonly FormatHandler[] = [
  // safetensors
  // onnx
  // savedmodel
  // gguf
  // numpy
  // pickle / pytorch / joblib
  pytorchLegacyHandler,
  torchscriptHandler,
  pytorchZipHandler,
  joblibHandler,
  pickleHandler,
];
