import {
  ferryError,
  type TfAttrValue,
  type TfFunctionDef,
  type TfGraphDef,
  type TfNodeDef,
} from '../formats.js';
import { convertError } from '../errors.js';

/** Function calls nest this deep at most; a recursive library would otherwise never end (CWE-674). */
export const MAX_INLINE_DEPTH = 64;
/** Nodes after inlining; a small library calling itself many times could blow up (CWE-770). */
export const MAX_FLAT_NODES = 2_000_000;
/** Alias chains (call output -> return -> call output ...) longer than this are a cycle (CWE-835). */
const MAX_ALIAS_HOPS = 10_000;

/** A node of the inlined graph: its name is unique (`call/inner/...`), its inputs `node:index`. */
export interface FlatNode {
  readonly name: string;
  readonly op: string;
  /** Data inputs as `node:index` (or an alias the graph resolves); control inputs are dropped. */
  readonly inputs: readonly string[];
  readonly attr: Readonly<Record<string, TfAttrValue>>;
  /** The function the node sits in (`graph` for the top level): error messages name it. */
  readonly fn: string;
}

export interface FlatGraph {
  readonly nodes: ReadonlyMap<string, FlatNode>;
  /** Follows call outputs and function arguments to the tensor that produces the value. */
  resolve(tensor: string): string;
}

/**
 * The top-level nodes the root tensors reach along data edges: only their calls are inlined, so
 * other signatures' and the saver's functions cost nothing. (A function body is inlined whole.)
 */
function neededTopLevel(nodes: readonly TfNodeDef[], roots: readonly string[]): TfNodeDef[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const needed = new Set<string>();
  const stack = roots.map((r) => r.replace(/:\d+$/, ''));
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (needed.has(name) || !byName.has(name)) continue;
    needed.add(name);
    for (const input of byName.get(name)!.inputs) {
      if (!input.startsWith('^')) stack.push(input.replace(/:\d+$/, ''));
    }
  }
  return nodes.filter((n) => needed.has(n.name));
}

/** The call ops tf.function emits; any op named after a library function is a call too. */
const CALL_OPS = new Set(['PartitionedCall', 'StatefulPartitionedCall']);

/**
 * Inside a FunctionDef an input is `node:out_arg:index`; the flat index is the position of that
 * output arg among the op's outputs plus index. Ops whose outputs are several named args list them
 * here (tensorflow/core/ops/*.cc); every other op has one (possibly list-valued) output arg.
 */
const OUTPUT_ARGS: Readonly<Record<string, readonly string[]>> = {
  FusedBatchNorm: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2'],
  FusedBatchNormV2: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2'],
  FusedBatchNormV3: [
    'y',
    'batch_mean',
    'batch_variance',
    'reserve_space_1',
    'reserve_space_2',
    'reserve_space_3',
  ],
  Unique: ['y', 'idx'],
  TopKV2: ['values', 'indices'],
  Switch: ['output_false', 'output_true'],
};

export function calledFunction(node: TfNodeDef, library: ReadonlyMap<string, TfFunctionDef>): string | null {
  if (CALL_OPS.has(node.op)) {
    const f = node.attr.f;
    return f?.kind === 'func' ? f.value.name : null;
  }
  return library.has(node.op) ? node.op : null;
}

/**
 * Inlines every function call of the graph, recursively: a call's body is copied with its node
 * names prefixed by the call's name, its arguments bound to the call's inputs, and the call's
 * outputs made aliases of the body's `ret` tensors. Control edges (and so `control_ret`) carry
 * only ordering for stateful ops, which a frozen inference graph has none of, and are dropped.
 */
export function inlineGraph(graph: TfGraphDef, path: string, roots?: readonly string[]): FlatGraph {
  const library = new Map(graph.functions.map((f) => [f.name, f]));
  const nodes = new Map<string, FlatNode>();
  const aliases = new Map<string, string>();

  const fail = (node: string, op: string, fn: string, reason: string): never => {
    throw convertError('FERRY_TF2ONNX_NODE', { path, node, op, fn, reason });
  };

  const addNodes = (
    body: readonly TfNodeDef[],
    prefix: string,
    fn: string,
    translate: (input: string, node: TfNodeDef) => string,
    depth: number,
  ): void => {
    for (const node of body) {
      const name = prefix + node.name;
      if (nodes.has(name) || aliases.has(`${name}:0`)) fail(name, node.op, fn, 'a second node has this name');
      if (nodes.size > MAX_FLAT_NODES) {
        throw ferryError('FERRY_LIMIT', {
          path,
          what: 'nodes after inlining',
          value: nodes.size,
          limit: MAX_FLAT_NODES,
          reason: 'every inlined node is held in memory (CWE-770)',
        });
      }
      const inputs = node.inputs.filter((i) => !i.startsWith('^')).map((i) => translate(i, node));
      const callee = calledFunction(node, library);
      if (callee === null) {
        nodes.set(name, { name, op: node.op, inputs, attr: node.attr, fn });
        continue;
      }
      const f = library.get(callee);
      if (!f) fail(name, node.op, fn, `it calls function ${callee}, which the library does not define`);
      if (depth >= MAX_INLINE_DEPTH) {
        throw ferryError('FERRY_LIMIT', {
          path,
          what: `function call depth at ${name}`,
          value: depth + 1,
          limit: MAX_INLINE_DEPTH,
          reason: 'calls nest deeper than any real model; a recursive library never ends (CWE-674)',
        });
      }
      inlineCall(f!, name, inputs, depth + 1);
    }
  };

  const opsByFunction = new Map<string, Map<string, string>>();
  const opsOf = (f: TfFunctionDef): Map<string, string> => {
    let ops = opsByFunction.get(f.name);
    if (!ops) {
      ops = new Map(f.nodes.map((n) => [n.name, n.op]));
      opsByFunction.set(f.name, ops);
    }
    return ops;
  };

  const inlineCall = (f: TfFunctionDef, callName: string, args: string[], depth: number): void => {
    const params = f.signature.inputArgs;
    if (params.length !== args.length) {
      fail(
        callName,
        'call',
        f.name,
        `the call passes ${args.length} inputs, function ${f.name} takes ${params.length}`,
      );
    }
    const argMap = new Map(params.map((p, i) => [p.name, args[i]!]));
    const prefix = `${callName}/`;
    const translate = (input: string, node: TfNodeDef): string => {
      const parts = input.split(':');
      if (parts.length === 1) {
        const bound = argMap.get(input);
        if (bound === undefined)
          fail(prefix + node.name, node.op, f.name, `input ${input} is no argument of ${f.name}`);
        return bound!;
      }
      const [src, arg, index] = parts;
      const offset = OUTPUT_ARGS[opsOf(f).get(src!) ?? '']?.indexOf(arg!) ?? 0;
      return `${prefix}${src}:${Math.max(offset, 0) + Number(index ?? 0)}`;
    };
    addNodes(f.nodes, prefix, f.name, translate, depth);
    f.signature.outputArgs.forEach((out, k) => {
      const ret = f.ret[out.name];
      if (ret === undefined)
        fail(callName, 'call', f.name, `function ${f.name} returns nothing for ${out.name}`);
      aliases.set(`${callName}:${k}`, translate(ret!, { name: out.name, op: 'ret' } as TfNodeDef));
    });
  };

  const top = (input: string): string => (/:\d+$/.test(input) ? input : `${input}:0`);
  addNodes(roots ? neededTopLevel(graph.nodes, roots) : graph.nodes, '', 'graph', top, 0);

  return {
    nodes,
    resolve(tensor) {
      let t = tensor;
      for (let hops = 0; aliases.has(t); hops++) {
        if (hops > MAX_ALIAS_HOPS) fail(tensor, 'call', 'graph', 'call outputs alias each other in a cycle');
        t = aliases.get(t)!;
      }
      return t;
    },
  };
}
