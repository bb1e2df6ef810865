import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  ferryError,
  writeAll,
  writeFileAtomic,
  dtypeFromOnnx,
  readTensorBytes,
  type TensorRef,
  encodeModelChunks,
  loadOnnx,
  MAX_ONNX_MODEL_BYTES,
  ONNX_EXTERNAL_ALIGNMENT,
  DATA_LOCATION_EXTERNAL,
  type OnnxModel,
  type OnnxTensor,
  onnxTypeName,
  tensorDims,
} from './formats.js';
import { convertError } from './errors.js';

export interface ReplaceOptions {
  /** Write tensor data to a sibling `OUT.data` file even when the model would fit in 2 GB. */
  readonly externalData?: boolean;
  /** Keep initializers that `weights` does not name (default: every dense initializer must be replaced). */
  readonly partial?: boolean;
  /** Tensors smaller than this stay inside the model when writing external data (onnx's size_threshold, 1024). */
  readonly externalThreshold?: number;
  /** Above this many bytes the model switches to external data (protobuf's limit; lower it to test the switch). */
  readonly maxModelBytes?: number;
  /** Called after each tensor is written. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ReplaceResult {
  readonly path: string;
  /** The external data file, when one was written. */
  readonly dataPath?: string;
  readonly replaced: number;
}

/** onnx.proto's typed data fields: cleared when a tensor's bytes move to raw_data or a file. */
const DATA_FIELDS = [
  'float_data',
  'int32_data',
  'string_data',
  'int64_data',
  'double_data',
  'uint64_data',
] as const;

/**
 * Writes a copy of an ONNX model whose initializers hold the bytes of `weights` (matched by name;
 * dtype and shape must be the same). Everything else in the model is kept as decoded. The model
 * is written atomically; with external data, the data file too: a failure leaves neither.
 */
export async function replaceInitializers(
  modelPath: string,
  weights: readonly TensorRef[],
  outPath: string,
  options: ReplaceOptions = {},
): Promise<ReplaceResult> {
  const loaded = await loadOnnx(modelPath);
  const initializers = loaded.model.graph?.initializer ?? [];
  const byName = new Map<string, TensorRef>();
  for (const ref of weights) {
    if (byName.has(ref.name))
      throw convertError('FERRY_ONNX_REPLACE_DUPLICATE', { path: modelPath, tensor: ref.name });
    byName.set(ref.name, ref);
  }
  const current = new Map(loaded.tensors.map((t) => [t.name, t]));
  const initializerNames = new Set(initializers.map((t) => t.name ?? ''));
  for (const ref of weights) {
    if (!initializerNames.has(ref.name))
      throw convertError('FERRY_ONNX_REPLACE_UNKNOWN', { path: modelPath, tensor: ref.name });
  }
  for (const tensor of initializers) {
    const name = tensor.name ?? '';
    const ref = byName.get(name);
    if (!ref) {
      if (!options.partial && current.has(name))
        throw convertError('FERRY_ONNX_REPLACE_MISSING', { path: modelPath, tensor: name });
      continue;
    }
    const expected = dtypeFromOnnx(tensor.data_type ?? 0) ?? onnxTypeName(tensor.data_type);
    if (expected !== ref.dtype || !current.has(name))
      throw convertError('FERRY_ONNX_REPLACE_DTYPE', {
        path: modelPath,
        tensor: name,
        expected,
        actual: ref.dtype,
      });
    const dims = tensorDims(modelPath, tensor);
    if (dims.length !== ref.shape.length || dims.some((d, i) => d !== ref.shape[i])) {
      throw convertError('FERRY_ONNX_REPLACE_SHAPE', {
        path: modelPath,
        tensor: name,
        expected: JSON.stringify(dims),
        actual: JSON.stringify(ref.shape),
      });
    }
  }

  // Where each initializer's bytes come from: a replacement, or (when kept) its current data.
  const sources = new Map<string, TensorRef>();
  for (const tensor of initializers) {
    const name = tensor.name ?? '';
    const ref = byName.get(name) ?? current.get(name);
    if (ref) sources.set(name, ref);
    else if (tensor.data_location === DATA_LOCATION_EXTERNAL) {
      throw ferryError('FERRY_UNSUPPORTED', {
        path: modelPath,
        what: `external data of ${onnxTypeName(tensor.data_type)} initializer ${name}`,
        reason: 'ferry moves only dense tensors',
      });
    }
  }
  const tensorBytes = [...sources.values()].reduce((sum, r) => sum + r.byteLength, 0);
  const limit = options.maxModelBytes ?? MAX_ONNX_MODEL_BYTES;
  // The original file bounds everything that is not tensor data (the graph, strings, typed fields).
  const external = options.externalData === true || loaded.bytes.byteLength + tensorBytes > limit;

  const out: OnnxModel = {
    ...loaded.model,
    graph: { ...loaded.model.graph, initializer: initializers.map((t) => ({ ...t })) },
  };
  const threshold = options.externalThreshold ?? 1024;
  // What gets rewritten: replacements, kept tensors from the old external data (their location
  // is relative to the old model), and, when writing external data, kept tensors big enough to move.
  const moving = out.graph!.initializer!.filter((t) => {
    const name = t.name ?? '';
    const ref = sources.get(name);
    if (!ref) return false;
    if (byName.has(name) || t.data_location === DATA_LOCATION_EXTERNAL) return true;
    return external && ref.byteLength >= threshold;
  });
  const total = moving.length;
  let done = 0;
  const progress = () => options.onProgress?.(++done, total);

  if (!external) {
    for (const tensor of moving) {
      setRaw(tensor, await readTensorBytes(sources.get(tensor.name ?? '')!));
      progress();
    }
    await writeModel(outPath, out);
    return { path: outPath, replaced: byName.size };
  }

  const dataPath = join(dirname(outPath), `${basename(outPath)}.data`);
  const location = basename(dataPath);
  let modelWritten = false;
  try {
    await writeFileAtomic(dataPath, async (file) => {
      let offset = 0;
      for (const tensor of moving) {
        const bytes = await readTensorBytes(sources.get(tensor.name ?? '')!);
        if (bytes.byteLength < threshold) {
          setRaw(tensor, bytes);
        } else {
          // Each tensor starts on a 4 KiB boundary, so a reader can mmap it page-aligned (onnx does the same).
          const padding =
            (ONNX_EXTERNAL_ALIGNMENT - (offset % ONNX_EXTERNAL_ALIGNMENT)) % ONNX_EXTERNAL_ALIGNMENT;
          if (padding > 0) await writeAll(file, new Uint8Array(padding));
          offset += padding;
          await writeAll(file, bytes);
          setExternal(tensor, location, offset, bytes.byteLength);
          offset += bytes.byteLength;
        }
        progress();
      }
      // The model goes out while the data file is still a temp file: if writing the model fails,
      // the data file is removed with it.
      await writeModel(outPath, out);
      modelWritten = true;
    });
  } catch (error) {
    if (modelWritten) await rm(outPath, { force: true });
    throw error;
  }
  return { path: outPath, dataPath, replaced: byName.size };
}

function clearData(tensor: OnnxTensor): void {
  for (const field of DATA_FIELDS) delete tensor[field];
  delete tensor.raw_data;
  delete tensor.external_data;
  delete tensor.data_location;
}

function setRaw(tensor: OnnxTensor, bytes: Uint8Array): void {
  clearData(tensor);
  tensor.raw_data = bytes;
}

function setExternal(tensor: OnnxTensor, location: string, offset: number, length: number): void {
  clearData(tensor);
  tensor.data_location = DATA_LOCATION_EXTERNAL;
  tensor.external_data = [
    { key: 'location', value: location },
    { key: 'offset', value: String(offset) },
    { key: 'length', value: String(length) },
  ];
}

async function writeModel(path: string, model: OnnxModel): Promise<void> {
  const { chunks, length } = encodeModelChunks(model);
  if (length > MAX_ONNX_MODEL_BYTES) {
    throw ferryError('FERRY_LIMIT', {
      path,
      what: 'ONNX model size',
      value: length,
      limit: MAX_ONNX_MODEL_BYTES,
      reason: "protobuf's 2 GB message limit; write the tensors as external data",
    });
  }
  await writeFileAtomic(path, async (file) => {
    for (const chunk of chunks) await writeAll(file, chunk);
  });
}
