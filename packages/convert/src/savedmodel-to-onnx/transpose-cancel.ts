import type { OnnxNode, OnnxTensor } from '../formats.js';

/**
 * NHWC ops convert as Transpose(to NCHW) -> op -> Transpose(to NHWC), so a chain of convolutions
 * has Transposes that undo each other, often with elementwise ops between them (Keras: Conv2D ->
 * BiasAdd -> Relu -> Conv2D). Two steps remove them:
 * 1. push each Transpose down through the elementwise op that alone reads it: a unary op
 *    commutes with any permutation; a binary op with a constant whose values lie along one axis
 *    (a bias) runs on the untransposed input with the constant's dims permuted;
 * 2. cancel each Transpose that reads a Transpose with the inverse permutation;
 * then nodes nothing reads are dropped.
 */
const UNARY_ELEMENTWISE = new Set([
  'Relu',
  'Sigmoid',
  'Tanh',
  'Elu',
  'Selu',
  'LeakyRelu',
  'Softplus',
  'Softsign',
  'Abs',
  'Neg',
  'Exp',
  'Log',
  'Sqrt',
  'Reciprocal',
  'Erf',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Not',
  'Cast',
]);
const BINARY_ELEMENTWISE = new Set(['Add', 'Sub', 'Mul', 'Div']);

const permOf = (node: OnnxNode): number[] | null => {
  const a = node.attribute?.find((x) => x.name === 'perm');
  return a?.ints ? a.ints.map(Number) : null;
};

/** Whether applying p then q gives back the original order. */
const isInverse = (p: number[], q: number[]): boolean =>
  p.length === q.length && q.every((qi, i) => p[qi] === i);

const inverse = (p: number[]): number[] => {
  const q: number[] = [];
  p.forEach((pi, i) => {
    q[pi] = i;
  });
  return q;
};

/**
 * transpose(c, perm) for a constant broadcast to rank perm.length whose values lie along at most
 * one axis: the bytes stay, only the dims move. Null when the constant does not qualify.
 */
function permutedConstant(c: OnnxTensor | undefined, perm: number[], name: string): OnnxTensor | null {
  if (!c?.raw_data || !c.dims || c.dims.length > perm.length) return null;
  const dims = [...Array(perm.length - c.dims.length).fill(1n), ...c.dims];
  if (dims.filter((d) => d !== 1n).length > 1) return null;
  return { ...c, name, dims: perm.map((axis) => dims[axis]!) };
}

function pushDown(nodes: OnnxNode[], graphOutputs: ReadonlySet<string>, initializers: OnnxTensor[]): void {
  const constants = new Map(initializers.map((t) => [t.name!, t]));
  const readers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    for (const input of n.input ?? []) readers.set(input, [...(readers.get(input) ?? []), i]);
  });
  let fresh = 0;
  for (let i = 0; i < nodes.length; i++) {
    const t = nodes[i]!;
    const perm = t.op_type === 'Transpose' ? permOf(t) : null;
    const out = t.output?.[0];
    if (!perm || out === undefined || graphOutputs.has(out)) continue;
    const users = readers.get(out) ?? [];
    if (users.length !== 1) continue;
    const j = users[0]!;
    const u = nodes[j]!;
    if ((u.output ?? []).length !== 1) continue;
    let inputs: string[];
    if (UNARY_ELEMENTWISE.has(u.op_type ?? '') && u.input!.length === 1) {
      inputs = [t.input![0]!];
    } else if (
      BINARY_ELEMENTWISE.has(u.op_type ?? '') &&
      u.input!.length === 2 &&
      u.input![0] !== u.input![1]
    ) {
      const side = u.input!.indexOf(out);
      const other = u.input![1 - side]!;
      const q = inverse(perm);
      const name = `${other}:perm${q.join('')}`;
      const moved = constants.get(name) ?? permutedConstant(constants.get(other), q, name);
      if (!moved) continue;
      if (!constants.has(name)) {
        constants.set(name, moved);
        initializers.push(moved);
      }
      inputs = side === 0 ? [t.input![0]!, name] : [name, t.input![0]!];
    } else {
      continue;
    }
    // u moves up to the Transpose's place (its inputs exist there); the Transpose takes u's place.
    const mid = `${out}:pushed${fresh++}`;
    nodes[i] = { ...u, input: inputs, output: [mid] };
    nodes[j] = { ...t, input: [mid], output: [...u.output!] };
    readers.set(mid, [j]);
    readers.delete(out);
  }
}

function cancelPairs(nodes: OnnxNode[], graphOutputs: ReadonlySet<string>): OnnxNode[] {
  const producer = new Map<string, OnnxNode>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const rename = new Map<string, string>();
  for (const t2 of nodes) {
    const p2 = t2.op_type === 'Transpose' ? permOf(t2) : null;
    if (!p2 || graphOutputs.has(t2.output![0]!)) continue;
    const t1 = producer.get(t2.input![0]!);
    const p1 = t1?.op_type === 'Transpose' ? permOf(t1) : null;
    if (p1 && isInverse(p1, p2)) rename.set(t2.output![0]!, t1!.input![0]!);
  }
  const resolve = (name: string): string => {
    let n = name;
    for (let hops = 0; rename.has(n) && hops < 10_000; hops++) n = rename.get(n)!;
    return n;
  };
  return nodes
    .filter((n) => !(n.op_type === 'Transpose' && rename.has(n.output![0]!)))
    .map((n) => ({ ...n, input: (n.input ?? []).map(resolve) }));
}

export function cancelTransposes(
  nodes: readonly OnnxNode[],
  graphOutputs: ReadonlySet<string>,
  initializers: OnnxTensor[] = [],
): OnnxNode[] {
  const current = [...nodes];
  pushDown(current, graphOutputs, initializers);
  return removeDead(cancelPairs(current, graphOutputs), graphOutputs);
}

/** Nodes whose outputs no graph output depends on. */
export function removeDead(nodes: readonly OnnxNode[], graphOutputs: ReadonlySet<string>): OnnxNode[] {
  const live = new Set(graphOutputs);
  const keep: boolean[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    const used = (n.output ?? []).some((o) => live.has(o));
    keep[i] = used;
    if (used) for (const input of n.input ?? []) live.add(input);
  }
  return nodes.filter((_, i) => keep[i]);
}
