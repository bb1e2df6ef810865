import type { FormatHandler, OpenedModel, TensorSpec } from '../model.js';
import { tfDtypeDisplay } from '../savedmodel/dtypes.js';
import { checkpointOpsFinding, scanGraphNodes } from '../savedmodel/findings.js';
import { graphOpHistogram } from '../savedmodel/signatures.js';
import type { TfGraphDef } from '../savedmodel/types.js';
import { graphConstants } from './constants.js';
import { readGraphDef } from './decode.js';
import { looksLikeGraphDef } from './detect.js';
import { type GraphTensor, graphLikelyOutputs, graphPlaceholders } from './graph-io.js';

/** A graph tensor as inspect shows it: named `node:index`, dtype by name, -1 for unknown dims. */
function spec(t: GraphTensor): TensorSpec & { readonly op: string } {
  return {
    name: t.tensor,
    dtype: t.dtype === 0 ? 'unknown' : tfDtypeDisplay(t.dtype),
    shape: t.shape ? [...t.shape.dims] : null,
    op: t.op,
  };
}

export function graphDefToOpened(path: string, graph: TfGraphDef): OpenedModel {
  const { tensors, opaque } = graphConstants(graph, path);
  const inputs = graphPlaceholders(graph).map(spec);
  const outputs = graphLikelyOutputs(graph).map(spec);
  const { findings, checkpointOps } = scanGraphNodes(graph, '');
  const metadata: Record<string, string> = {};
  if (graph.versions) metadata.graph_producer = String(graph.versions.producer);
  return {
    format: 'tfgraph',
    path,
    tensors,
    ...(opaque.length > 0 && { opaque }),
    metadata,
    inputs,
    outputs,
    details: {
      nodes: graph.nodes.length,
      functions: graph.functions.length,
      graphProducer: graph.versions?.producer ?? null,
      minConsumer: graph.versions?.minConsumer ?? null,
      ops: graphOpHistogram(graph),
      constants: tensors.length + opaque.length,
      constantBytes: tensors.reduce((sum, t) => sum + t.byteLength, 0),
      // why the outputs are guesses: a GraphDef names no outputs; convert/serve take these by default
      outputsAre: 'nodes no other node consumes',
    },
    findings: [...findings, ...checkpointOpsFinding(checkpointOps, 'graph')],
    close: async () => {},
  };
}

/**
 * TensorFlow frozen graphs: one serialized GraphDef (`frozen.pb`, `frozen_inference_graph.pb`,
 * Triton's `model.graphdef`), the input of tf2onnx and of TF1 model zoos. Read with the SavedModel
 * reader's schemas; scanned with its op table.
 */
export const tfGraphHandler: FormatHandler = {
  name: 'tfgraph',
  detect: looksLikeGraphDef,
  open: async (path) => graphDefToOpened(path, await readGraphDef(path)),
};
