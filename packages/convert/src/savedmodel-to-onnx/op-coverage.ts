import { join } from 'node:path';
import {
  readSavedModel,
  SAVED_MODEL_PB,
  type TfGraphDef,
  type TfMetaGraph,
  tfgraph,
  savedmodel,
} from '../formats.js';
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
  return graphOpCoverage(meta.graph);
}

/** Every op of a GraphDef (its nodes and its library's), with whether the ONNX converter handles it. */
export function graphOpCoverage(graph: TfGraphDef): OpCoverage[] {
  const functions = new Set(graph.functions.map((f) => f.name));
  return Object.entries(savedmodel.graphOpHistogram(graph)).map(([op, count]) => ({
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

/** The op coverage of a frozen GraphDef file. */
export async function graphDefOpCoverage(path: string): Promise<OpCoverage[]> {
  return graphOpCoverage(await tfgraph.readGraphDef(path));
}
