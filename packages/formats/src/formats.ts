import { ggufHandler } from './gguf/gguf-handler.js';
import { lightgbmHandler } from './lightgbm/handler.js';
import type { FormatHandler } from './model.js';
import { npyHandler } from './numpy/npy-handler.js';
import { npzHandler } from './numpy/npz-handler.js';
import { onnxHandler } from './onnx/handler.js';
import { joblibHandler, pickleHandler } from './pickle/handler.js';
import { pytorchLegacyHandler } from './pytorch/legacy.js';
import { pytorchZipHandler, torchscriptHandler } from './pytorch/zip-checkpoint.js';
import { safetensorsHandler } from './safetensors/read.js';
import { savedModelHandler } from './savedmodel/handler.js';
import { tfGraphHandler } from './tfgraph/handler.js';

/**
 * Every format ferry reads, in detection order: formats with unambiguous magic bytes first,
 * container formats (zip, pickle) after, so the more specific answer wins.
 */
export const FORMAT_HANDLERS: readonly FormatHandler[] = [
  // safetensors
  safetensorsHandler,
  // onnx
  onnxHandler,
  // savedmodel
  savedModelHandler,
  // gguf
  ggufHandler,
  // numpy
  npyHandler,
  npzHandler,
  // lightgbm (a text model whose first line is "tree")
  lightgbmHandler,
  // tfgraph: no magic number, recognised by its protobuf structure, so after every magic-number format
  tfGraphHandler,
  // pickle / pytorch / joblib
  pytorchLegacyHandler,
  torchscriptHandler,
  pytorchZipHandler,
  joblibHandler,
  pickleHandler,
];
