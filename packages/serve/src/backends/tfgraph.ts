import { TFGRAPH_TO_ONNX } from '@ferry/convert';
import { convertingBackend } from './converting.js';

/**
 * TensorFlow frozen graphs (one serialized GraphDef; Triton's `tensorflow_graphdef` platform and
 * its `model.graphdef` file name), converted to ONNX by @ferry/convert's TypeScript converter at
 * load: inputs are the Placeholders the outputs reach, outputs the nodes nobody consumes (what the
 * graph was frozen for), each named by its tensor (`x:0`), as tf2onnx names them. When config.yaml
 * lists inputs or outputs, those tensors are fed and fetched instead (Triton's config for a
 * graphdef model names them the same way), and their shapes and datatypes are narrowed as usual.
 */
export const tfGraphBackend = convertingBackend({
  name: 'tfgraph',
  platform: 'tensorflow_graphdef',
  fileNames: ['model.graphdef'],
  converterVersion: 'tf2onnx-ts-1',
  sourceRoot: (path) => path,
  tensorsFromConfig: true,
  convert: async (path, _entry, tensors) =>
    (
      await TFGRAPH_TO_ONNX.convert(path, {
        ...(tensors && tensors.inputs.length > 0 && { inputs: tensors.inputs }),
        ...(tensors && tensors.outputs.length > 0 && { outputs: tensors.outputs }),
      })
    ).bytes,
});
