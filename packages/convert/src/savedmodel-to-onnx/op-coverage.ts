import { join } from 'node:path';
import { readSavedModel, SAVED_MODEL_PB, opHistogram, type TfMetaGraph } from '../formats.js';
import { CONVERTERS } from './ops/index.js';
import { DEFAULT_TAG, selectMetaGraph } from './select.js';

/** Ops that vanish when calls are inlined: they never need a converter of their own. */
const INLINED = new Set(['PartitionedCall', 'StatefulPartitionedCall']);

export interface OpCoverage {
  readonly op: string;
  readonly count: number;
  /** `covered`, `inlined` (function calls), or `uncovered`. */
  readonly status: 'covered' | 'inlined' | 'uncovered';
}

/** Every op of a MetaGraph (graph and library), with whether the ONNX converter handles it. */
export function opCoverage(meta: TfMetaGraph): OpCoverage[] {
  const functions = new Set(meta.graph.functions.map((f) => f.name));
  return Object.entries(opHistogram(meta)).map(([op, count]) => ({
    op,
    count,
    status: CONVERTERS.has(op) ? 'covered' : INLINED.has(op) || functions.has(op) ? 'inlined' : 'uncovered',
  }));
}

/** The op coverage of a SavedModel folder's MetaGraph with the given tag set. */
export async function savedModelOpCoverage(dir: string, tag = DEFAULT_TAG): Promise<OpCoverage[]> {
  const model = await readSavedModel(join(dir, SAVED_MODEL_PB));
  return opCoverage(selectMetaGraph(model, tag, dir));
}
