import type { FlatGraph, FlatNode } from './inline.js';
import { convertError } from '../errors.js';

/** A node and the index of its output: `name:3` -> ['name', 3]. */
export function splitTensor(tensor: string): [string, number] {
  const colon = tensor.lastIndexOf(':');
  return [tensor.slice(0, colon), Number(tensor.slice(colon + 1))];
}

/**
 * The nodes the outputs need, producers first: a walk back along data edges from the output
 * tensors that stops at the signature's input tensors (they become graph inputs, whatever op
 * made them: Placeholder, PlaceholderWithDefault). Iterative, so deep graphs cannot overflow the
 * stack.
 */
export function pruneGraph(
  graph: FlatGraph,
  outputs: readonly string[],
  inputs: ReadonlySet<string>,
  path: string,
): FlatNode[] {
  const order: FlatNode[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const producerOf = (tensor: string, from: string, fn: string): FlatNode | null => {
    const t = graph.resolve(tensor);
    if (inputs.has(t)) return null;
    const [name] = splitTensor(t);
    const node = graph.nodes.get(name);
    if (!node) {
      throw convertError('FERRY_TF2ONNX_NODE', {
        path,
        node: from,
        op: 'input',
        fn,
        reason: `tensor ${t} names no node of the graph`,
      });
    }
    return node;
  };
  for (const output of outputs) {
    const root = producerOf(output, 'signature output', 'graph');
    if (!root || state.has(root.name)) continue;
    const stack: [FlatNode, number][] = [[root, 0]];
    state.set(root.name, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [node, next] = top;
      if (next < node.inputs.length) {
        top[1]++;
        const producer = producerOf(node.inputs[next]!, node.name, node.fn);
        if (!producer) continue;
        const seen = state.get(producer.name);
        if (seen === 'open') {
          throw convertError('FERRY_TF2ONNX_NODE', {
            path,
            node: node.name,
            op: node.op,
            fn: node.fn,
            reason: 'its inputs form a cycle (loops are not converted)',
          });
        }
        if (seen === 'done') continue;
        state.set(producer.name, 'open');
        stack.push([producer, 0]);
      } else {
        stack.pop();
        state.set(node.name, 'done');
        order.push(node);
      }
    }
  }
  return order;
}
