import type { TensorMetadata } from '@ferry/serving-api';

/**
 * Tensor metadata as both protocols publish it: name, datatype, shape. An input or output of
 * unknown rank is published as [-1], the OIP/KServe convention for "any shape" (TF Serving
 * itself answers unknown_rank: true); the anyRank flag stays internal.
 */
export function publishedTensors(list: readonly TensorMetadata[]) {
  return list.map(({ name, datatype, shape, anyRank }) => ({
    name,
    datatype,
    shape: anyRank ? [-1] : shape,
  }));
}
