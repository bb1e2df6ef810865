import type { OnnxNode } from '../../onnx/schema.js';

/**
 * NHWC ops convert as Transpose(to NCHW) -> op -> Transpose(to NHWC), so a chain of convolutions
 * has back-to-back Transposes that undo each other. This pass cancels each pair whose permutations
 * compose to the identity, also across single-input elementwise ops between them (Relu, Sigmoid:
 * they commute with any permutation), and then drops nodes nothing reads.
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
  'Identity',
  'Not',
  'Cast',
]);

const permOf = (node: OnnxNode): number[] | null => {
  const a = node.attribute?.find((x) => x.name === 'perm');
  return a?.ints ? a.ints.map(Number) : null;
};

const isIdentity = (p: number[], q: number[]): boolean =>
  p.length === q.length && q.every((qi, i) => p[qi] === i);

export function cancelTransposes(nodes: readonly OnnxNode[], graphOutputs: ReadonlySet<string>): OnnxNode[] {
  let current = [...nodes];
  for (let round = 0; round < 8; round++) {
    const producer = new Map<string, OnnxNode>();
    const readers = new Map<string, number>();
    for (const n of current) {
      for (const o of n.output ?? []) producer.set(o, n);
      for (const i of n.input ?? []) readers.set(i, (readers.get(i) ?? 0) + 1);
    }
    const rename = new Map<string, string>();
    const replaced = new Map<OnnxNode, OnnxNode>();
    for (const t2 of current) {
      if (t2.op_type !== 'Transpose' || graphOutputs.has(t2.output![0]!)) continue;
      const p2 = permOf(t2);
      const mid = producer.get(t2.input![0]!);
      if (!p2 || !mid) continue;
      if (mid.op_type === 'Transpose') {
        const p1 = permOf(mid);
        if (p1 && isIdentity(p1, p2)) rename.set(t2.output![0]!, mid.input![0]!);
        continue;
      }
      // T1 -> unary -> T2 with the unary read only by T2: run the unary on T1's input instead.
      if (!UNARY_ELEMENTWISE.has(mid.op_type ?? '') || readers.get(mid.output![0]!) !== 1) continue;
      const t1 = producer.get(mid.input![0]!);
      const p1 = t1?.op_type === 'Transpose' ? permOf(t1) : null;
      if (!t1 || !p1 || !isIdentity(p1, p2) || replaced.has(mid)) continue;
      replaced.set(mid, { ...mid, input: [t1.input![0]!], output: [t2.output![0]!] });
      rename.set(t2.output![0]!, t2.output![0]!);
      replaced.set(t2, { ...t2, op_type: '' });
    }
    if (rename.size === 0) break;
    const resolve = (name: string): string => {
      let n = name;
      for (let hops = 0; rename.has(n) && rename.get(n) !== n && hops < 1000; hops++) n = rename.get(n)!;
      return n;
    };
    current = current
      .map((n) => replaced.get(n) ?? n)
      .filter(
        (n) =>
          n.op_type !== '' &&
          !(
            n.op_type === 'Transpose' &&
            rename.has(n.output![0]!) &&
            rename.get(n.output![0]!) !== n.output![0]
          ),
      )
      .map((n) => ({ ...n, input: (n.input ?? []).map(resolve) }));
    // The moved unary now sits where T2 was in order; it must come after its new input's producer,
    // which it does: T1's input is produced before T1, and T1 before the unary.
  }
  return removeDead(current, graphOutputs);
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
