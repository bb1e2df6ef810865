import type { OpaqueTensor } from '../model.js';
import { DT_STRING, ferryDtypeOfTf, tfDtypeName } from '../savedmodel/dtypes.js';
import { tfTensorToBytes } from '../savedmodel/tensor-proto.js';
import type { TfGraphDef, TfTensor } from '../savedmodel/types.js';
import { BufferSource, type ByteSource } from '../tensor/byte-source.js';
import { denseByteLength } from '../tensor/tensor-ref.js';
import type { TensorRef } from '../tensor/tensor-ref.js';

/**
 * A Const node's value as a byte source, made dense on first read: `tensor_content` is a view of
 * the file (zero-copy), typed `*_val` fields are expanded only when someone reads the tensor, so
 * listing a graph's constants costs nothing (tfTensorToBytes checks sizes and limits then).
 */
class ConstSource implements ByteSource {
  private dense: BufferSource | undefined;
  constructor(
    private readonly tensor: TfTensor,
    readonly name: string,
    readonly size: number,
  ) {}
  private bytes(): BufferSource {
    this.dense ??= new BufferSource(tfTensorToBytes(this.tensor, this.name).bytes, this.name);
    return this.dense;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.bytes().read(offset, length);
  }
  async close(): Promise<void> {
    this.dense = undefined;
  }
}

/**
 * A frozen graph's weights: every Const node's `value`, as a tensor named by the node (numeric
 * dtypes), or as an opaque entry (strings, shapes TensorFlow left unknown). These are what
 * `convert GRAPH.pb -o weights.safetensors` writes.
 */
export function graphConstants(
  graph: TfGraphDef,
  path: string,
): { tensors: TensorRef[]; opaque: OpaqueTensor[] } {
  const tensors: TensorRef[] = [];
  const opaque: OpaqueTensor[] = [];
  for (const node of graph.nodes) {
    if (node.op !== 'Const') continue;
    const value = node.attr.value;
    if (value?.kind !== 'tensor') continue;
    const tensor = value.value;
    const dims = tensor.shape.dims;
    const known = !tensor.shape.unknownRank && dims.every((d) => d >= 0);
    const dtype = ferryDtypeOfTf(tensor.dtype);
    if (!dtype || !known || tensor.dtype % 100 === DT_STRING) {
      opaque.push({
        name: node.name,
        type: tfDtypeName(tensor.dtype),
        shape: known ? [...dims] : [],
        byteLength: tensor.tensorContent?.length ?? 0,
        reason: !known ? 'its shape is not fully known' : 'ferry has no dense dtype for it',
      });
      continue;
    }
    const byteLength = denseByteLength(dtype, dims, path, node.name);
    tensors.push({
      name: node.name,
      dtype,
      shape: [...dims],
      source: new ConstSource(tensor, `${path}: Const ${node.name}`, byteLength),
      offset: 0,
      byteLength,
    });
  }
  return { tensors, opaque };
}
