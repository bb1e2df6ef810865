import { ggufHandler } from './gguf/gguf-handler.js';
import type { FormatHandler } from './model.js';

/**
 * Every format ferry reads, in detection order: formats with unambiguous magic bytes first,
 * container formats (zip, pickle) after, so the more specific answer wins.
 */
export const FORMAT_HANDLERS: readonly FormatHandler[] = [
  // safetensors
  // onnx
  // savedmodel
  // gguf
  ggufHandler,
  // numpy
  // pickle / pytorch / joblib
];
