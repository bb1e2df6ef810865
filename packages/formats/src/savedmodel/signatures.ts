import type { Signature, TensorSpec } from '../model.js';
import { tfDtypeDisplay } from './dtypes.js';
import type { TfGraphDef, TfMetaGraph, TfTensorInfo } from './types.js';

type SignatureTensor = TensorSpec & { readonly tensorName?: string };

/** The graph tensor a TensorInfo names: the dense name, or a sparse tensor's values. */
export function tensorNameOf(info: TfTensorInfo): string {
  if (info.encoding === 'coo_sparse') return info.cooSparse!.valuesTensorName;
  if (info.encoding === 'composite') return (info.components ?? []).map(tensorNameOf).join(',');
  return info.name;
}

function spec(key: string, info: TfTensorInfo): SignatureTensor {
  return {
    name: key,
    dtype: tfDtypeDisplay(info.dtype),
    // Unknown rank (or no shape recorded) is null; unknown dims are -1, as saved_model_cli shows them.
    shape: !info.shape || info.shape.unknownRank ? null : [...info.shape.dims],
    tensorName: tensorNameOf(info),
  };
}

export const tagSetLabel = (meta: TfMetaGraph): string => [...meta.tags].sort().join(',');

/**
 * Signatures of every MetaGraph. With one MetaGraph (the usual case) keys are the signature keys;
 * with several, each key is prefixed with its tag set (`serve,gpu/serving_default`).
 */
export function signaturesOf(metaGraphs: readonly TfMetaGraph[]): Signature[] {
  const out: Signature[] = [];
  for (const meta of metaGraphs) {
    const prefix = metaGraphs.length > 1 ? `${tagSetLabel(meta)}/` : '';
    for (const sig of meta.signatures) {
      out.push({
        key: prefix + sig.key,
        method: sig.methodName,
        inputs: Object.keys(sig.inputs)
          .sort()
          .map((k) => spec(k, sig.inputs[k]!)),
        outputs: Object.keys(sig.outputs)
          .sort()
          .map((k) => spec(k, sig.outputs[k]!)),
      });
    }
  }
  return out;
}

/** The MetaGraph a server would load: tag set exactly {serve}, else one containing serve, else the first. */
export function servingMetaGraph(metaGraphs: readonly TfMetaGraph[]): TfMetaGraph | undefined {
  return (
    metaGraphs.find((m) => m.tags.length === 1 && m.tags[0] === 'serve') ??
    metaGraphs.find((m) => m.tags.includes('serve')) ??
    metaGraphs[0]
  );
}

/** Op type -> count over the graph and every library function. */
export function opHistogram(meta: TfMetaGraph): Record<string, number> {
  return graphOpHistogram(meta.graph);
}

/** Op type -> count over a GraphDef's nodes and its library functions' nodes (SavedModel and frozen graphs). */
export function graphOpHistogram(graph: TfGraphDef): Record<string, number> {
  // A Map, not an object: op names come from the file ("__proto__" must stay an op name).
  const counts = new Map<string, number>();
  const add = (op: string): void => {
    counts.set(op, (counts.get(op) ?? 0) + 1);
  };
  for (const node of graph.nodes) add(node.op);
  for (const fn of graph.functions) for (const node of fn.nodes) add(node.op);
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
