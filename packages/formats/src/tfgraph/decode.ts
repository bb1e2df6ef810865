import { ferryError } from '../errors.js';
import { decodeMessage } from '../protobuf/decode.js';
import { toGraph } from '../savedmodel/decode.js';
import * as P from '../savedmodel/protos.js';
import type { TfGraphDef } from '../savedmodel/types.js';
import { FileSource } from '../tensor/byte-source.js';
import { MAX_GRAPHDEF_BYTES } from './limits.js';

/**
 * Decodes a serialized GraphDef with the SavedModel reader's own schemas and converters (a
 * SavedModel's MetaGraphDef.graph_def is the same message), then checks what a frozen graph needs:
 * at least one node, and node names that are unique (inputs name nodes; two with one name would
 * make every edge to it ambiguous, and TensorFlow's importer refuses them too).
 */
export function decodeGraphDefBytes(bytes: Uint8Array, path: string): TfGraphDef {
  if (bytes.length > MAX_GRAPHDEF_BYTES) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'GraphDef size',
      value: bytes.length,
      limit: MAX_GRAPHDEF_BYTES,
      reason: 'protobuf messages are limited to 2 GiB',
    });
  }
  const graph = toGraph(decodeMessage(P.GraphDef, bytes, { path }), { path }, 'graph');
  if (graph.nodes.length === 0) {
    throw ferryError('FERRY_TFGRAPH_STRUCTURE', {
      path,
      what: 'GraphDef.node',
      reason: 'the graph has no nodes',
    });
  }
  const seen = new Set<string>();
  for (const [i, node] of graph.nodes.entries()) {
    if (node.name === '' || node.op === '') {
      throw ferryError('FERRY_TFGRAPH_STRUCTURE', {
        path,
        what: `GraphDef.node[${i}]`,
        reason: node.name === '' ? 'the node has no name' : `node ${node.name} has no op`,
      });
    }
    if (seen.has(node.name)) {
      throw ferryError('FERRY_TFGRAPH_STRUCTURE', {
        path,
        what: `GraphDef.node[${i}]`,
        reason: `a second node is named ${node.name}`,
      });
    }
    seen.add(node.name);
  }
  return graph;
}

/** Reads a GraphDef file whole (protobuf's 2 GiB limit bounds it), checking its size first. */
export async function readGraphDef(path: string): Promise<TfGraphDef> {
  const source = await FileSource.open(path);
  try {
    if (source.size > MAX_GRAPHDEF_BYTES) {
      throw ferryError('FERRY_LIMIT', {
        path,
        what: 'GraphDef size',
        value: source.size,
        limit: MAX_GRAPHDEF_BYTES,
        reason: 'protobuf messages are limited to 2 GiB',
      });
    }
    return decodeGraphDefBytes(await source.read(0, source.size), path);
  } finally {
    await source.close();
  }
}
