import { encodeModel, type OnnxModel, tfgraph } from '../formats.js';
import { convertError } from '../errors.js';
import { emitOnnx, prepareGraph, variablesNeeded } from './convert.js';
import { type GraphIoOptions, graphSignature } from './graph-signature.js';

/**
 * A frozen GraphDef (variables already inlined as Const nodes) to ONNX: the same inlining,
 * pruning and op converters as a SavedModel signature, fed by a signature built from the named
 * (or guessed) inputs and outputs. A graph that still reads variables has no values to freeze.
 */
export async function convertGraphDefToOnnxModel(
  path: string,
  options: GraphIoOptions = {},
): Promise<OnnxModel> {
  const graph = await tfgraph.readGraphDef(path);
  const prepared = prepareGraph(graph, graphSignature(graph, path, options), path);
  const variable = variablesNeeded(prepared)[0];
  if (variable) {
    throw convertError('FERRY_TF2ONNX_VARIABLE', {
      path,
      node: variable.node,
      fn: variable.fn,
      reason:
        'a GraphDef carries no variable values; freeze the graph first (graph_util.convert_variables_to_constants) or convert the SavedModel',
    });
  }
  return emitOnnx(prepared, new Map());
}

export async function convertGraphDefToOnnx(path: string, options: GraphIoOptions = {}): Promise<Uint8Array> {
  return encodeModel(await convertGraphDefToOnnxModel(path, options));
}
