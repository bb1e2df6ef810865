import { decodeMessage } from '../protobuf/decode.js';
import type { Message } from '../protobuf/schema.js';
import { TrackableObjectGraph } from './protos.js';
import type { TfObjectGraph } from './types.js';

/**
 * TF2 checkpoint keys of the object graph's variables: the names along the shortest path of
 * child edges from the root (breadth-first, children in order, as
 * tensorflow/python/checkpoint/graph_view.py walks it), each escaped ("." -> "..", "/" -> ".S",
 * trackable/base.py _escape_local_name), then "/.ATTRIBUTES/VARIABLE_VALUE". These are the keys
 * of variables.index, so a function's captured variable (SavedConcreteFunction.bound_inputs ->
 * SavedObject) can be found in the TensorBundle.
 */
export const VARIABLE_VALUE_SUFFIX = '/.ATTRIBUTES/VARIABLE_VALUE';

export function escapeLocalName(name: string): string {
  return name.replaceAll('.', '..').replaceAll('/', '.S');
}

/** Node id -> checkpoint key, for every variable reachable from the root. */
export function variableCheckpointKeys(graph: TfObjectGraph): Map<number, string> {
  const paths = new Map<number, string[]>();
  if (graph.nodes.length === 0) return new Map();
  paths.set(0, []);
  const queue = [0];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head]!;
    const path = paths.get(id)!;
    for (const child of graph.nodes[id]?.children ?? []) {
      if (child.nodeId < 0 || child.nodeId >= graph.nodes.length || paths.has(child.nodeId)) continue;
      paths.set(child.nodeId, [...path, escapeLocalName(child.localName)]);
      queue.push(child.nodeId);
    }
  }
  const keys = new Map<number, string>();
  for (const [id, path] of paths) {
    if (graph.nodes[id]?.kind === 'variable') keys.set(id, path.join('/') + VARIABLE_VALUE_SUFFIX);
  }
  return keys;
}

/** The TF2 checkpoint's own object graph: per node, its children and its saved tensors' keys. */
export interface CheckpointObject {
  readonly children: readonly { readonly nodeId: number; readonly localName: string }[];
  readonly attributes: readonly {
    readonly name: string;
    readonly fullName: string;
    readonly checkpointKey: string;
  }[];
}

/** The bundle key under which TF2 checkpoints store their TrackableObjectGraph. */
export const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';

/** Decodes the TrackableObjectGraph stored as the `_CHECKPOINTABLE_OBJECT_GRAPH` string. */
export function decodeCheckpointObjectGraph(bytes: Uint8Array, path: string): CheckpointObject[] {
  const graph = decodeMessage(TrackableObjectGraph, bytes, { path });
  return ((graph.nodes as Message[] | undefined) ?? []).map((node) => ({
    children: ((node.children as Message[] | undefined) ?? []).map((c) => ({
      nodeId: (c.node_id as number | undefined) ?? 0,
      localName: (c.local_name as string | undefined) ?? '',
    })),
    attributes: ((node.attributes as Message[] | undefined) ?? []).map((a) => ({
      name: (a.name as string | undefined) ?? '',
      fullName: (a.full_name as string | undefined) ?? '',
      checkpointKey: (a.checkpoint_key as string | undefined) ?? '',
    })),
  }));
}
