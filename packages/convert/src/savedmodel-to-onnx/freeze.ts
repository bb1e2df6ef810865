import {
  readTensorBytes,
  variableCheckpointKeys,
  type TensorBundle,
  type TfMetaGraph,
  type TfNodeDef,
} from '../formats.js';
import { calledFunction } from './inline.js';
import { convertError } from '../errors.js';

/** The ops that own a variable: their node is where a read's resource or ref leads. */
export const VARIABLE_OPS = new Set(['VarHandleOp', 'VariableV2', 'Variable']);

const utf8 = new TextDecoder('utf-8', { fatal: false });
const nodeOf = (input: string): string => input.replace(/^\^/, '').replace(/:\d+$/, '');

/**
 * Bundle key of each top-level variable node, from what the SavedModel itself records:
 * - TF2: a call's trailing inputs are the function's captured variables, and the object graph's
 *   `concrete_functions[f].bound_inputs` names their SavedObjects, whose checkpoint keys
 *   `variableCheckpointKeys` derives (load.py binds captures the same way);
 * - TF1: the saver's restore path, `Assign(var, RestoreV2:i)` (through Identity), where
 *   RestoreV2's `tensor_names` constant holds the key of output i (saver.py builds it so);
 * - otherwise a variable whose node name or shared_name is itself a bundle key.
 */
export function variableKeys(meta: TfMetaGraph, bundleKeys: ReadonlySet<string>): Map<string, string> {
  const keys = new Map<string, string>();
  const nodes = new Map(meta.graph.nodes.map((n) => [n.name, n]));
  const library = new Map(meta.graph.functions.map((f) => [f.name, f]));
  const objectGraph = meta.objectGraph;
  if (objectGraph) {
    const byObject = variableCheckpointKeys(objectGraph);
    for (const node of meta.graph.nodes) {
      const callee = calledFunction(node, library);
      const bound = callee ? objectGraph.concreteFunctions[callee]?.boundInputs : undefined;
      if (!bound || bound.length === 0) continue;
      const data = node.inputs.filter((i) => !i.startsWith('^'));
      const captured = data.slice(data.length - bound.length);
      captured.forEach((input, i) => {
        const key = byObject.get(bound[i]!);
        const source = followIdentity(nodes, nodeOf(input));
        if (key && source && VARIABLE_OPS.has(source.op) && !keys.has(source.name))
          keys.set(source.name, key);
      });
    }
  }
  for (const node of meta.graph.nodes) {
    if (node.op !== 'RestoreV2') continue;
    const names = nodes.get(nodeOf(node.inputs[1] ?? ''));
    const value = names?.attr.value;
    if (names?.op !== 'Const' || value?.kind !== 'tensor') continue;
    const tensorNames = value.value.stringVal.map((s) => utf8.decode(s));
    for (const assign of meta.graph.nodes) {
      if (assign.op !== 'Assign' && assign.op !== 'AssignVariableOp') continue;
      const target = followIdentity(nodes, nodeOf(assign.inputs[0] ?? ''));
      const [src, index] = sourceTensor(nodes, assign.inputs[1] ?? '');
      if (target && VARIABLE_OPS.has(target.op) && src === node.name && tensorNames[index] !== undefined) {
        if (!keys.has(target.name)) keys.set(target.name, tensorNames[index]!);
      }
    }
  }
  for (const node of meta.graph.nodes) {
    if (!VARIABLE_OPS.has(node.op) || keys.has(node.name)) continue;
    const shared = node.attr.shared_name?.kind === 's' ? utf8.decode(node.attr.shared_name.value) : '';
    const key = [node.name, shared].find((k) => k !== '' && bundleKeys.has(k));
    if (key) keys.set(node.name, key);
  }
  return keys;
}

function followIdentity(nodes: ReadonlyMap<string, TfNodeDef>, name: string): TfNodeDef | undefined {
  let node = nodes.get(name);
  for (let hops = 0; node && node.op === 'Identity' && hops < 1000; hops++)
    node = nodes.get(nodeOf(node.inputs[0] ?? ''));
  return node;
}

function sourceTensor(nodes: ReadonlyMap<string, TfNodeDef>, input: string): [string, number] {
  let tensor = input;
  for (let hops = 0; hops < 1000; hops++) {
    const node = nodes.get(nodeOf(tensor));
    if (node?.op !== 'Identity') break;
    tensor = node.inputs[0] ?? '';
  }
  const m = /^(.*?)(?::(\d+))?$/.exec(tensor)!;
  return [m[1]!, Number(m[2] ?? 0)];
}

/** A variable's value, as an initializer takes it. */
export interface FrozenValue {
  readonly dtype: number;
  readonly dims: readonly number[];
  readonly bytes: Uint8Array;
}

/** Reads the variables the pruned graph uses (each read checks its crc32c). */
export async function readVariables(
  needed: readonly { node: string; fn: string }[],
  keys: ReadonlyMap<string, string>,
  bundle: TensorBundle | null,
  path: string,
): Promise<Map<string, FrozenValue>> {
  const values = new Map<string, FrozenValue>();
  const entries = new Map(bundle?.entries.map((e) => [e.name, e]));
  const refs = new Map(bundle?.tensors.map((t) => [t.name, t]));
  for (const { node, fn } of needed) {
    if (values.has(node)) continue;
    const key = keys.get(node);
    if (key === undefined) {
      throw convertError('FERRY_TF2ONNX_VARIABLE', {
        path,
        node,
        fn,
        reason: 'no bundle key is known for it (object graph, restore ops and its name give none)',
      });
    }
    const entry = entries.get(key);
    const ref = refs.get(key);
    if (!entry || !ref) {
      throw convertError('FERRY_TF2ONNX_VARIABLE', {
        path,
        node,
        fn,
        reason: `the variables bundle has no numeric entry ${key}`,
      });
    }
    values.set(node, { dtype: entry.dtype, dims: [...entry.shape], bytes: await readTensorBytes(ref) });
  }
  return values;
}
