import { TFGRAPH_TO_ONNX } from '@ferry/convert';
import { convertingBackend } from './converting.js';

/**
 * TensorFlow frozen graphs (one serialized GraphDef; Triton's `tensorflow_graphdef` platform and
 * its `model.graphdef` file name), converted to ONNX by @ferry/convert's TypeScript converter at
 * load: inputs are the Placeholders the outputs reach, outputs the nodes nobody consumes (what the
 * graph was frozen for), each named by its tensor (`x:0`), as tf2onnx names them. config.yaml's
 * inputs/outputs narrow those tensors' shapes and datatypes by the same names.
 */
export const tfGraphBackend = convertingBackend({
  name: 'tfgraph',
  platform: 'tensorflow_graphdef',
  fileNames: ['model.graphdef'],
  converterVersion: 'tf2onnx-ts-1',
  sourceRoot: (path) => path,
  convert: async (path) => (await TFGRAPH_TO_ONNX.convert(path)).bytes,
});
