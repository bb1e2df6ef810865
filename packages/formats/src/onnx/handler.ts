import { finding } from '../finding-kinds.js';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ferryError } from '../errors.js';
import type { Finding, FormatHandler, OpaqueTensor, OpenedModel } from '../model.js';
import { BufferSource } from '../tensor/byte-source.js';
import { numel, type TensorRef } from '../tensor/tensor-ref.js';
import { checkModel } from './check.js';
import { decodeModel } from './codec.js';
import { countNodes, graphInputs, opHistogram, opsetImports, valueSpec } from './describe.js';
import { looksLikeOnnx } from './detect.js';
import { ExternalDataResolver } from './external-data.js';
import { MAX_ONNX_MODEL_BYTES } from './limits.js';
import type { OnnxModel } from './schema.js';
import { initializerToTensor } from './tensors.js';

/** A decoded model with its tensors resolved: what `open` builds and replace-weights reuses. */
export interface LoadedOnnx {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly model: OnnxModel;
  readonly tensors: TensorRef[];
  readonly opaque: OpaqueTensor[];
}

/** Reads a .onnx file whole (protobuf's 2 GB limit bounds it) and resolves every initializer. */
export async function loadOnnx(path: string): Promise<LoadedOnnx> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw ferryError('FERRY_NOT_FOUND', { path });
    throw ferryError('FERRY_IO', { path, reason: (error as Error).message }, error);
  }
  if (size > MAX_ONNX_MODEL_BYTES) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'ONNX model size',
      value: size,
      limit: MAX_ONNX_MODEL_BYTES,
      reason: "protobuf's 2 GB message limit; larger models keep tensors in external data",
    });
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw ferryError('FERRY_IO', { path, reason: (error as Error).message }, error);
  }
  const model = decodeModel(bytes, path);
  if (!model.graph) throw ferryError('FERRY_ONNX_NOT_MODEL', { path, reason: 'ModelProto has no graph' });
  const ctx = {
    path,
    file: new BufferSource(bytes, path),
    external: new ExternalDataResolver(path, dirname(path)),
  };
  const tensors: TensorRef[] = [];
  const opaque: OpaqueTensor[] = [];
  for (const initializer of model.graph.initializer ?? []) {
    const result = await initializerToTensor(ctx, initializer);
    if (result.ref) tensors.push(result.ref);
    else opaque.push(result.opaque);
  }
  for (const sparse of model.graph.sparse_initializer ?? []) {
    const dims = (sparse.dims ?? []).map(Number);
    opaque.push({
      name: sparse.values?.name ?? '',
      type: 'SparseTensorProto',
      shape: dims,
      byteLength: (sparse.values?.raw_data?.byteLength ?? 0) + (sparse.indices?.raw_data?.byteLength ?? 0),
      reason: 'sparse initializer (values + indices), not a dense tensor',
    });
  }
  return { path, bytes, model, tensors, opaque };
}

export const onnxHandler: FormatHandler = {
  name: 'onnx',
  detect: looksLikeOnnx,
  async open(path: string): Promise<OpenedModel> {
    const loaded = await loadOnnx(path);
    const { model, tensors, opaque } = loaded;
    const graph = model.graph!;
    const metadata: Record<string, string> = {};
    for (const entry of model.metadata_props ?? []) metadata[entry.key ?? ''] = entry.value ?? '';
    const initializerBytes =
      tensors.reduce((sum, t) => sum + t.byteLength, 0) + opaque.reduce((sum, t) => sum + t.byteLength, 0);
    const parameters =
      tensors.reduce((sum, t) => sum + numel(t.shape), 0) +
      opaque.reduce((sum, t) => sum + numel(t.shape), 0);
    const findings: Finding[] = checkModel(model).map((p) =>
      finding(`onnx-check/${p.rule}`, p.message, p.node ? `${p.graph}: node ${p.node}` : p.graph),
    );
    return {
      format: 'onnx',
      path,
      tensors,
      ...(opaque.length > 0 && { opaque }),
      metadata,
      inputs: graphInputs(graph),
      outputs: (graph.output ?? []).map(valueSpec),
      details: {
        ir_version: Number(model.ir_version ?? 0n),
        producer_name: model.producer_name ?? '',
        producer_version: model.producer_version ?? '',
        ...(model.domain && { domain: model.domain }),
        model_version: Number(model.model_version ?? 0n),
        ...(model.doc_string && { doc_string: model.doc_string }),
        graph: graph.name ?? '',
        nodes: countNodes(graph),
        initializers: tensors.length + opaque.length,
        initializer_bytes: initializerBytes,
        parameters,
        external_data: tensors.some((t) => t.source !== undefined && !(t.source instanceof BufferSource)),
        ...((model.functions?.length ?? 0) > 0 && { functions: model.functions!.length }),
        opset_import: opsetImports(model),
        op_types: opHistogram(graph),
      },
      ...(findings.length > 0 && { findings }),
      async close() {
        // Nothing held open: the model is in memory and external files are opened per read.
      },
    };
  },
};
