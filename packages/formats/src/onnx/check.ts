import type { OnnxGraph, OnnxModel, OnnxNode } from './schema.js';

/** One broken rule, naming where: the graph (`main`, `main/Loop_3.body`), the node, the value. */
export interface CheckProblem {
  readonly rule:
    | 'opset-missing'
    | 'graph-missing'
    | 'graph-name-empty'
    | 'initializer-name-empty'
    | 'initializer-name-duplicate'
    | 'op-type-empty'
    | 'ssa'
    | 'topological-order'
    | 'undefined-input'
    | 'undefined-output'
    | 'metadata-key-duplicate';
  readonly graph: string;
  readonly node?: string;
  readonly message: string;
}

/** Names visible in a graph: its own, then its enclosing graphs' up to the node that holds it. */
class Scope {
  private readonly names = new Set<string>();
  constructor(private readonly parent?: Scope) {}
  add(name: string): void {
    this.names.add(name);
  }
  has(name: string): boolean {
    return this.names.has(name) || (this.parent?.has(name) ?? false);
  }
}

/** ai.onnx and the empty string are the same domain (onnx.proto, OperatorSetIdProto). */
const normalDomain = (domain: string | undefined) => (domain === 'ai.onnx' ? '' : (domain ?? ''));

/**
 * The structural core of onnx.checker.check_model (onnx/checker.cc, check_graph and
 * check_model): SSA, topological order, names defined before use (subgraphs see their outer
 * scope), unique non-empty initializer names, and an opset import for every domain used.
 * Operator schemas (attribute types, input counts) are not checked. Returns every problem found.
 */
export function checkModel(model: OnnxModel): CheckProblem[] {
  const problems: CheckProblem[] = [];
  const ir = model.ir_version ?? 0n;
  const opsets = new Set((model.opset_import ?? []).map((o) => normalDomain(o.domain)));
  // IR 3 introduced opset_import; a model without one cannot say which operators it uses.
  if (ir >= 3n && opsets.size === 0)
    problems.push({
      rule: 'opset-missing',
      graph: 'model',
      message: 'model has no opset_import (required since IR version 3)',
    });
  const keys = new Set<string>();
  for (const entry of model.metadata_props ?? []) {
    const key = entry.key ?? '';
    if (keys.has(key))
      problems.push({
        rule: 'metadata-key-duplicate',
        graph: 'model',
        message: `metadata_props key "${key}" appears twice`,
      });
    keys.add(key);
  }
  if (!model.graph) {
    problems.push({ rule: 'graph-missing', graph: 'model', message: 'model has no graph' });
    return problems;
  }
  // Without any opset_import the model-level problem says it all; no need to repeat it per node.
  const domains = ir >= 3n && opsets.size > 0 ? opsets : undefined;
  checkGraph(model.graph, 'main', new Scope(), domains, problems, ir);
  return problems;
}

function checkGraph(
  graph: OnnxGraph,
  where: string,
  scope: Scope,
  domains: Set<string> | undefined,
  problems: CheckProblem[],
  ir: bigint,
): void {
  if (!graph.name) problems.push({ rule: 'graph-name-empty', graph: where, message: 'graph has no name' });
  const defineOnce = (name: string, node: string | undefined, what: string) => {
    if (scope.has(name)) {
      problems.push({
        rule: 'ssa',
        graph: where,
        ...(node !== undefined && { node }),
        message: `${what} "${name}" is already defined (each value is produced once)`,
      });
    }
    scope.add(name);
  };

  const inputs = new Set<string>();
  for (const input of graph.input ?? []) {
    const name = input.name ?? '';
    inputs.add(name);
    defineOnce(name, undefined, 'graph input');
  }
  const initializers = new Set<string>();
  for (const tensor of graph.initializer ?? []) {
    const name = tensor.name ?? '';
    if (name === '') {
      problems.push({
        rule: 'initializer-name-empty',
        graph: where,
        message: 'an initializer has an empty name',
      });
      continue;
    }
    if (initializers.has(name)) {
      problems.push({
        rule: 'initializer-name-duplicate',
        graph: where,
        message: `initializer "${name}" appears twice`,
      });
      continue;
    }
    initializers.add(name);
    // Before IR 4 initializers had to be graph inputs too; then the name is defined once.
    if (!inputs.has(name)) defineOnce(name, undefined, 'initializer');
  }
  for (const sparse of graph.sparse_initializer ?? []) {
    const name = sparse.values?.name ?? '';
    if (name === '')
      problems.push({
        rule: 'initializer-name-empty',
        graph: where,
        message: 'a sparse initializer has an empty name',
      });
    else if (initializers.has(name))
      problems.push({
        rule: 'initializer-name-duplicate',
        graph: where,
        message: `initializer "${name}" appears twice`,
      });
    else {
      initializers.add(name);
      if (!inputs.has(name)) defineOnce(name, undefined, 'sparse initializer');
    }
  }

  const nodes = graph.node ?? [];
  // Where each value is produced in this graph, to tell "used before produced" from "never produced".
  const producedAt = new Map<string, number>();
  nodes.forEach((node, index) => {
    for (const out of node.output ?? []) if (out !== '' && !producedAt.has(out)) producedAt.set(out, index);
  });

  nodes.forEach((node, index) => {
    const label = nodeLabel(node, index);
    if (!node.op_type)
      problems.push({ rule: 'op-type-empty', graph: where, node: label, message: 'node has no op_type' });
    if (domains && !domains.has(normalDomain(node.domain))) {
      problems.push({
        rule: 'opset-missing',
        graph: where,
        node: label,
        message: `no opset_import for domain "${node.domain || 'ai.onnx'}"`,
      });
    }
    for (const input of node.input ?? []) {
      if (input === '' || scope.has(input)) continue; // '' is an omitted optional input
      const later = producedAt.get(input);
      problems.push(
        later !== undefined && later >= index
          ? {
              rule: 'topological-order',
              graph: where,
              node: label,
              message: `input "${input}" is produced by node ${nodeLabel(nodes[later]!, later)}, which comes later`,
            }
          : {
              rule: 'undefined-input',
              graph: where,
              node: label,
              message: `input "${input}" is never defined`,
            },
      );
    }
    for (const attr of node.attribute ?? []) {
      const subgraphs = [...(attr.g ? [attr.g] : []), ...(attr.graphs ?? [])];
      subgraphs.forEach((sub, i) => {
        const subWhere = `${where}/${label}.${attr.name ?? ''}${subgraphs.length > 1 ? `[${i}]` : ''}`;
        checkGraph(sub, subWhere, new Scope(scope), domains, problems, ir);
      });
    }
    for (const out of node.output ?? []) if (out !== '') defineOnce(out, label, 'node output');
  });

  for (const output of graph.output ?? []) {
    const name = output.name ?? '';
    if (!scope.has(name))
      problems.push({
        rule: 'undefined-output',
        graph: where,
        message: `graph output "${name}" is never produced`,
      });
  }
}

function nodeLabel(node: OnnxNode, index: number): string {
  return node.name ? `${node.name}` : `#${index} (${node.op_type ?? '?'})`;
}
