import { BufferSource } from '../tensor/byte-source.js';
import type { DType } from '../tensor/dtype.js';
import type { TensorRef } from '../tensor/tensor-ref.js';
import type { LgbmModel } from './model.js';
import type { LgbmTree } from './tree.js';

/** One column of every tree's arrays, concatenated in tree order. */
interface Column {
  readonly name: string;
  readonly dtype: Extract<DType, 'F64' | 'I32' | 'U32'>;
  readonly values: (tree: LgbmTree) => readonly number[];
}

// The numbers a LightGBM model is made of, as tensors: `ferry diff` compares two models by them
// (a retrained model changes leaf_value/threshold; a different tree shape changes the lengths),
// and inspect lists them like any other weights. `tree_leaves` says where each tree's rows start.
const COLUMNS: readonly Column[] = [
  { name: 'tree_leaves', dtype: 'I32', values: (t) => [t.numLeaves] },
  { name: 'leaf_value', dtype: 'F64', values: (t) => t.leafValue },
  { name: 'threshold', dtype: 'F64', values: (t) => t.threshold },
  { name: 'split_feature', dtype: 'I32', values: (t) => t.splitFeature },
  { name: 'decision_type', dtype: 'I32', values: (t) => t.decisionType },
  { name: 'left_child', dtype: 'I32', values: (t) => t.leftChild },
  { name: 'right_child', dtype: 'I32', values: (t) => t.rightChild },
  { name: 'cat_boundaries', dtype: 'I32', values: (t) => t.catBoundaries },
  { name: 'cat_threshold', dtype: 'U32', values: (t) => t.catThreshold },
];

/** The model's tree arrays as little-endian tensors over one in-memory buffer. */
export function lightgbmTensors(model: LgbmModel, path: string): TensorRef[] {
  const columns = COLUMNS.map((c) => ({ ...c, all: model.trees.flatMap((t) => [...c.values(t)]) }));
  const total = columns.reduce((sum, c) => sum + c.all.length * (c.dtype === 'F64' ? 8 : 4), 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  const source = new BufferSource(bytes, path);
  const tensors: TensorRef[] = [];
  let offset = 0;
  for (const c of columns) {
    const start = offset;
    for (const v of c.all) {
      if (c.dtype === 'F64') view.setFloat64(offset, v, true);
      else if (c.dtype === 'U32') view.setUint32(offset, v >>> 0, true);
      else view.setInt32(offset, v, true);
      offset += c.dtype === 'F64' ? 8 : 4;
    }
    if (c.all.length === 0 && c.name.startsWith('cat_')) continue;
    tensors.push({
      name: c.name,
      dtype: c.dtype,
      shape: [c.all.length],
      source,
      offset: start,
      byteLength: offset - start,
    });
  }
  return tensors;
}
