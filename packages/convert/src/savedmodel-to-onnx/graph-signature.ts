import {
  type TfGraphDef,
  type TfNodeDef,
  type TfSignatureDef,
  type TfTensorInfo,
  tfgraph,
} from '../formats.js';
import { convertError } from '../errors.js';
import { canonicalTensor } from './select.js';

/** The signature key a frozen graph's conversion reports (a GraphDef has no signatures of its own). */
export const GRAPHDEF_SIGNATURE = 'graphdef';

/** Which tensors feed and which are fetched, as tf2onnx's --inputs/--outputs (`X:0`, or `X` for `X:0`). */
export interface GraphIoOptions {
  readonly inputs?: readonly string[];
  readonly outputs?: readonly string[];
}

const list = (tensors: readonly { tensor: string }[]): string =>
  tensors.map((t) => t.tensor).join(', ') || 'none';

/**
 * The Placeholders the outputs reach along data edges, not walking past the nodes in `stop` (the
 * named inputs): the graph's default inputs, or the ones a list of named inputs left out.
 */
function placeholdersReached(
  graph: TfGraphDef,
  outputs: readonly string[],
  stop: ReadonlySet<string> = new Set(),
): TfNodeDef[] {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const seen = new Set<string>();
  const stack = outputs.map((t) => tfgraph.splitTensorName(t).node);
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (seen.has(name) || stop.has(name)) continue;
    seen.add(name);
    for (const input of byName.get(name)?.inputs ?? []) {
      if (!input.startsWith('^')) stack.push(tfgraph.splitTensorName(input).node);
    }
  }
  return graph.nodes.filter((n) => seen.has(n.name) && tfgraph.PLACEHOLDER_OPS.has(n.op));
}

/**
 * A SavedModel-style signature for a frozen graph, so it converts through the same pipeline:
 * outputs as named (else the nodes nobody consumes, which are the outputs a frozen graph was
 * pruned to), inputs as named (else the Placeholders those outputs reach). ONNX names are the
 * tensor names (`X:0`), as tf2onnx writes them, so a model converted by either takes the same feed.
 */
export function graphSignature(
  graph: TfGraphDef,
  path: string,
  options: GraphIoOptions = {},
): TfSignatureDef {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const resolve = (side: 'input' | 'output', name: string): tfgraph.GraphTensor => {
    const tensor = canonicalTensor(name.trim());
    const { node: nodeName, index } = tfgraph.splitTensorName(tensor);
    const node = byName.get(nodeName);
    if (!node) {
      throw convertError('FERRY_TF2ONNX_SIGNATURE', {
        path,
        what: `${side} ${tensor}`,
        reason: `the graph has no node ${nodeName} (placeholders: ${list(tfgraph.graphPlaceholders(graph))}; unconsumed nodes: ${list(tfgraph.graphLikelyOutputs(graph))})`,
      });
    }
    return tfgraph.graphTensor(node, index);
  };
  let outputs: tfgraph.GraphTensor[];
  if (options.outputs && options.outputs.length > 0) {
    outputs = options.outputs.map((o) => resolve('output', o));
  } else {
    outputs = tfgraph.graphLikelyOutputs(graph);
    if (outputs.length === 0) {
      throw convertError('FERRY_TF2ONNX_SIGNATURE', {
        path,
        what: 'outputs',
        reason:
          'every node is consumed by another, so no output can be guessed; name them (--outputs NODE:0,...)',
      });
    }
  }
  const outputTensors = outputs.map((o) => o.tensor);
  let inputs: tfgraph.GraphTensor[];
  if (options.inputs && options.inputs.length > 0) {
    inputs = options.inputs.map((i) => resolve('input', i));
    // a Placeholder the outputs still need would have no value in the ONNX graph: say which
    const missing = placeholdersReached(graph, outputTensors, new Set(inputs.map((i) => i.node)));
    if (missing.length > 0) {
      throw convertError('FERRY_TF2ONNX_SIGNATURE', {
        path,
        what: `inputs ${inputs.map((i) => i.tensor).join(', ')}`,
        reason: `the outputs also need Placeholder ${missing.map((n) => `${n.name}:0`).join(', ')}; name every input`,
      });
    }
  } else {
    inputs = placeholdersReached(graph, outputTensors).map((n) => tfgraph.graphTensor(n));
  }
  const record = (side: 'input' | 'output', tensors: readonly tfgraph.GraphTensor[]) => {
    const out: Record<string, TfTensorInfo> = Object.create(null);
    for (const t of tensors) {
      if (out[t.tensor]) {
        throw convertError('FERRY_TF2ONNX_SIGNATURE', {
          path,
          what: `${side} ${t.tensor}`,
          reason: 'named twice',
        });
      }
      if (side === 'input' && t.dtype === 0) {
        throw convertError('FERRY_TF2ONNX_SIGNATURE', {
          path,
          what: `input ${t.tensor}`,
          reason: `node ${t.node} (${t.op}) records no dtype attribute, so the ONNX input type is unknown; feed a Placeholder instead`,
        });
      }
      out[t.tensor] = { encoding: 'dense', name: t.tensor, dtype: t.dtype, shape: t.shape };
    }
    return out;
  };
  return {
    key: GRAPHDEF_SIGNATURE,
    methodName: '',
    inputs: record('input', inputs),
    outputs: record('output', outputs),
  };
}
